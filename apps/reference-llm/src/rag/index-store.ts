import { HnswIndex, type VectorStore } from '@tessera/rag';
import { HnswlibStore } from '@tessera/rag/hnswlib';
import { loadIndex, saveIndex } from '@tessera/rag/node';

/**
 * The vector stores an index folder can hold: `@tessera/rag`'s own `HnswIndex` (plain
 * TypeScript), or hnswlib's C++ through `HnswlibStore` (the optional `hnswlib-node`). On the
 * same 100,000 vectors in rag's benchmark the two graphs reach the same recall, but hnswlib
 * answered about 2.2× the queries per second and built 2.3× faster.
 */
export const INDEX_STORES = ['hnsw', 'hnswlib'] as const;
export type IndexStoreKind = (typeof INDEX_STORES)[number];
export type IndexStore = HnswIndex | HnswlibStore;

/** The file of an index folder that holds each kind's vectors. */
export const STORE_FILES: Record<IndexStoreKind, string> = {
  hnsw: 'vectors.hnsw',
  hnswlib: 'vectors.hnswlib',
};

const install = 'install it with "npm install hnswlib-node"';

/**
 * An empty store of `kind` (cosine); without a kind, hnswlib's where `hnswlib-node` is installed
 * (the faster), else ours.
 *
 * @throws Error - kind `hnswlib` without `hnswlib-node` installed, saying how to install it
 */
export async function createIndexStore(
  kind: IndexStoreKind | undefined,
  dimension: number,
): Promise<{ kind: IndexStoreKind; store: IndexStore }> {
  if (kind === 'hnsw') return { kind, store: new HnswIndex({ dimension }) };
  try {
    return { kind: 'hnswlib', store: await HnswlibStore.create({ dimension }) };
  } catch (e) {
    // HnswlibStore.create's only TypeError here is the missing addon (the options are known).
    if (!(e instanceof TypeError)) throw e;
    if (kind === 'hnswlib')
      throw new Error(
        `--store hnswlib: hnswlib-node is not installed; ${install}, or use --store hnsw`,
        {
          cause: e,
        },
      );
    return { kind: 'hnsw', store: new HnswIndex({ dimension }) };
  }
}

/** Writes a store to `path` atomically, in its kind's file format. */
export function saveIndexStore(path: string, store: IndexStore): Promise<void> {
  return store instanceof HnswlibStore ? store.save(path) : saveIndex(path, store);
}

/**
 * Reads the store of `kind` that {@link saveIndexStore} wrote to `path`.
 *
 * @throws IndexFileError - a missing or corrupt file (named)
 * @throws Error - an hnswlib index without `hnswlib-node` installed, saying how to install it
 */
export async function loadIndexStore(kind: IndexStoreKind, path: string): Promise<VectorStore> {
  if (kind === 'hnsw') return loadIndex(path);
  try {
    return await HnswlibStore.load(path);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    throw new Error(`${path} is an hnswlib index, and hnswlib-node is not installed; ${install}`, {
      cause: e,
    });
  }
}
