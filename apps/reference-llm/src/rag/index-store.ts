import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FlatIndex, HnswIndex } from '@tessera/rag';
import { HnswlibStore } from '@tessera/rag/hnswlib';
import { LanceDbStore } from '@tessera/rag/lancedb';
import { loadIndex, saveIndex } from '@tessera/rag/node';
import { PgVectorStore } from '@tessera/rag/pgvector';
import { writeAtomic } from '../atomic-write.js';

/**
 * The vector stores an index folder can hold: `@tessera/rag`'s own `HnswIndex` (plain
 * TypeScript), hnswlib's C++ through `HnswlibStore` (the optional `hnswlib-node`), LanceDB's
 * embedded database (`LanceDbStore`, the optional `@lancedb/lancedb`; exact search), or a
 * PostgreSQL table with pgvector (`PgVectorStore`, the optional `pg`; exact search). On the same
 * 100,000 vectors in rag's benchmark our graph and hnswlib's reach the same recall, but hnswlib
 * answered about 2.2× the queries per second and built 2.3× faster.
 */
export const INDEX_STORES = ['hnsw', 'hnswlib', 'lancedb', 'pgvector'] as const;
export type IndexStoreKind = (typeof INDEX_STORES)[number];
export type IndexStore = HnswIndex | HnswlibStore | LanceDbStore | PgVectorStore;

/**
 * What an index folder holds of each kind's vectors: a file (`hnsw`, `hnswlib`), LanceDB's
 * database folder (`lancedb`), or the PostgreSQL table's name (`pgvector`, as `{ "table": … }`).
 */
export const STORE_FILES: Record<IndexStoreKind, string> = {
  hnsw: 'vectors.hnsw',
  hnswlib: 'vectors.hnswlib',
  lancedb: 'lancedb',
  pgvector: 'pgvector.json',
};

/** Where a database store connects: the `--database-url` option, else `DATABASE_URL`. */
export interface StoreConnection {
  databaseUrl?: string;
}

const install = 'install it with "npm install hnswlib-node"';

function databaseUrl(o: StoreConnection, what: string): string {
  const url = o.databaseUrl ?? process.env.DATABASE_URL;
  if (!url)
    throw new Error(
      `${what} keeps its vectors in PostgreSQL: give --database-url postgres://… or set DATABASE_URL`,
    );
  return url;
}

/**
 * An empty store of `kind` (cosine) for the index folder being written in `dir`; without a kind,
 * hnswlib's where `hnswlib-node` is installed (the faster), else ours. `lancedb` creates its
 * database in `dir`; `pgvector` creates a table `tessera_rag_` + 12 random hex digits.
 *
 * @throws Error - kind `hnswlib` without `hnswlib-node` installed, saying how to install it;
 *   `pgvector` without a database URL
 * @throws StoreConnectionError - a database that cannot be opened or reached, or whose client
 *   is not installed
 */
export async function createIndexStore(
  kind: IndexStoreKind | undefined,
  dimension: number,
  dir: string,
  o: StoreConnection = {},
): Promise<{ kind: IndexStoreKind; store: IndexStore }> {
  if (kind === 'hnsw') return { kind, store: new HnswIndex({ dimension }) };
  if (kind === 'lancedb')
    return {
      kind,
      store: await LanceDbStore.open({ uri: join(dir, STORE_FILES.lancedb), dimension }),
    };
  if (kind === 'pgvector') {
    const connectionString = databaseUrl(o, '--store pgvector');
    const table = `tessera_rag_${randomBytes(6).toString('hex')}`;
    return { kind, store: await PgVectorStore.connect({ connectionString, table, dimension }) };
  }
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

/**
 * Keeps a store in the index folder `dir` and releases it: a file written atomically in its
 * kind's format, LanceDB's database (already written there) closed, or the PostgreSQL table's
 * name written and the connection ended.
 */
export async function saveIndexStore(dir: string, store: IndexStore): Promise<void> {
  if (store instanceof HnswlibStore) return store.save(join(dir, STORE_FILES.hnswlib));
  if (store instanceof HnswIndex) return saveIndex(join(dir, STORE_FILES.hnsw), store);
  if (store instanceof PgVectorStore)
    writeAtomic(
      join(dir, STORE_FILES.pgvector),
      `${JSON.stringify({ table: store.table }, null, 2)}\n`,
    );
  await store.close();
}

/** Releases an opened store's connection (a database's); in-process stores hold none. */
export async function closeIndexStore(store: IndexStore | FlatIndex): Promise<void> {
  if (store instanceof LanceDbStore || store instanceof PgVectorStore) await store.close();
}

/** Undoes a store whose index folder failed to build: drops a PostgreSQL table (the rest is in the folder). */
export async function discardIndexStore(store: IndexStore): Promise<void> {
  if (store instanceof PgVectorStore) await store.drop();
  else if (store instanceof LanceDbStore) await store.close();
}

/**
 * Opens the store of `kind` that {@link saveIndexStore} kept in the index folder `dir`.
 *
 * @throws IndexFileError - a missing or corrupt file (named)
 * @throws Error - an hnswlib index without `hnswlib-node` installed, saying how to install it;
 *   a missing LanceDB folder or table record; a pgvector index without a database URL
 * @throws StoreConnectionError - a database that cannot be opened or reached
 */
export async function loadIndexStore(
  kind: IndexStoreKind,
  dir: string,
  dimension: number,
  o: StoreConnection = {},
): Promise<IndexStore | FlatIndex> {
  const path = join(dir, STORE_FILES[kind]);
  if (kind === 'hnsw') return loadIndex(path);
  if (kind === 'lancedb') {
    if (!existsSync(path))
      throw new Error(`${path}: missing (the LanceDB database "rag index" writes)`);
    return LanceDbStore.open({ uri: path, dimension });
  }
  if (kind === 'pgvector') {
    let table: unknown;
    try {
      table = JSON.parse(readFileSync(path, 'utf8')).table;
    } catch (e) {
      throw new Error(
        `${path}: cannot read the PostgreSQL table's name (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    if (typeof table !== 'string')
      throw new Error(`${path}: expected { "table": name }, got table ${JSON.stringify(table)}`);
    const connectionString = databaseUrl(o, `${dir} (table ${table})`);
    return PgVectorStore.connect({ connectionString, table, dimension });
  }
  try {
    return await HnswlibStore.load(path);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    throw new Error(`${path} is an hnswlib index, and hnswlib-node is not installed; ${install}`, {
      cause: e,
    });
  }
}
