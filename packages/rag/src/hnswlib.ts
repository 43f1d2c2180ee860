/**
 * @packageDocumentation
 * A {@link VectorStore} over hnswlib (`hnswlib-node`, the C++ library's Node binding): the same
 * algorithm as `HnswIndex`, natively compiled — about 2× the queries per second and a
 * faster build on this package's benchmark — for users who can install a native addon. Needs the
 * optional peer dependency `hnswlib-node` (tested with 3.0.0). `save` and `HnswlibStore.load`
 * keep it in a file (Node only, as the addon is).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HierarchicalNSW } from 'hnswlib-node';
import { HNSW_OPTION_KEYS, type HnswOptions } from './hnsw.js';
import { decodeIndexFile, encodeIndexFile, IndexFileError } from './index-file.js';
import { readIndexFile, writeFileAtomic } from './node.js';
import { checkOptions } from './options.js';
import {
  checkDimension,
  checkK,
  checkMetric,
  checkPositiveInteger,
  checkRecords,
  checkVector,
  type Metric,
  type VectorHit,
  type VectorRecord,
  type VectorStore,
} from './vector-store.js';

/** Options of {@link HnswlibStore.create}: those of our own `HnswIndex`, with the same defaults (hnswlib's). */
export type HnswlibStoreOptions = HnswOptions;

const SPACE = { l2: 'l2', dot: 'ip', cosine: 'cosine' } as const;

/** The `hnswlib-node` module, or a TypeError saying how to install it. */
async function hnswlib(where: string): Promise<typeof import('hnswlib-node')> {
  try {
    // A CommonJS addon: Node's ESM loader puts its exports on `default`.
    const mod = (await import('hnswlib-node')) as typeof import('hnswlib-node') & {
      default?: typeof import('hnswlib-node');
    };
    return mod.default ?? mod;
  } catch (e) {
    throw new TypeError(
      `${where}: the optional peer dependency hnswlib-node is not installed (npm install hnswlib-node)`,
      { cause: e },
    );
  }
}

/** A path for hnswlib's own file, which it reads and writes only by name. */
const scratchPath = () => join(tmpdir(), `tessera-hnswlib-${randomBytes(6).toString('hex')}.bin`);

/**
 * Vectors in an hnswlib graph, ids mapped to hnswlib's integer labels. Deletion marks the label
 * (hnswlib's `markDelete`: the node keeps routing, is never returned); capacity doubles as
 * records arrive. Distances follow this package's conventions (hnswlib's squared l2 becomes l2,
 * its 1 − a·b becomes −a·b; cosine stays 1 − cos).
 */
export class HnswlibStore implements VectorStore {
  private readonly labels = new Map<string, number>();
  private readonly ids: string[] = [];
  private live = 0;

  private constructor(
    private readonly index: HierarchicalNSW,
    readonly dimension: number,
    readonly metric: Metric,
    private readonly efSearch: number,
  ) {}

  /**
   * An empty store.
   *
   * @throws TypeError - an unknown option, or `hnswlib-node` not installed
   * @throws RangeError - a bad dimension, metric, m, efConstruction, efSearch or seed
   */
  static async create(options: HnswlibStoreOptions): Promise<HnswlibStore> {
    const where = 'HnswlibStore.create';
    checkOptions(where, options, HNSW_OPTION_KEYS);
    const dimension = checkDimension(where, options.dimension);
    const metric = checkMetric(where, options.metric ?? 'cosine');
    const m = checkPositiveInteger(where, 'm', options.m ?? 16);
    const efConstruction = checkPositiveInteger(
      where,
      'efConstruction',
      options.efConstruction ?? 200,
    );
    const efSearch = checkPositiveInteger(where, 'efSearch', options.efSearch ?? 64);
    const seed = options.seed ?? 100;
    if (!Number.isInteger(seed) || seed < 0)
      throw new RangeError(`${where}: seed must be a non-negative integer, got ${seed}`);
    const lib = await hnswlib(where);
    const index = new lib.HierarchicalNSW(SPACE[metric], dimension);
    index.initIndex({ maxElements: 1024, m, efConstruction, randomSeed: seed });
    return new HnswlibStore(index, dimension, metric, efSearch);
  }

  add(records: readonly VectorRecord[]): void {
    checkRecords('HnswlibStore.add', records, this.dimension, this.metric, (id) =>
      this.labels.has(id),
    );
    const needed = this.ids.length + records.length;
    if (needed > this.index.getMaxElements())
      this.index.resizeIndex(Math.max(needed, 2 * this.index.getMaxElements()));
    for (const r of records) {
      const label = this.ids.length;
      this.index.addPoint(Array.from(r.vector), label);
      this.ids.push(r.id);
      this.labels.set(r.id, label);
    }
    this.live += records.length;
  }

  delete(ids: readonly string[]): void {
    for (const id of ids) {
      const label = this.labels.get(id);
      if (label === undefined) continue;
      this.index.markDelete(label);
      this.labels.delete(id);
      this.live--;
    }
  }

  search(query: ArrayLike<number>, k: number): VectorHit[] {
    const where = 'HnswlibStore.search';
    checkK(where, k);
    checkVector(where, 'query', query, this.dimension, this.metric);
    const n = Math.min(k, this.live);
    if (n === 0) return [];
    this.index.setEf(Math.max(this.efSearch, n));
    const { neighbors, distances } = this.index.searchKnn(Array.from(query), n);
    return neighbors.map((label, i) => ({
      id: this.ids[label]!,
      distance: this.distance(distances[i]!),
    }));
  }

  size(): number {
    return this.live;
  }

  /**
   * Writes the store to `path` atomically (a temporary file in the same folder, then a rename):
   * this package's index file (`TSRAGIDX`, format version, CRC-32) of kind `hnswlib`, holding
   * the dimension, metric, efSearch and ids in its header and hnswlib's own graph file as its
   * one section. Read it back with {@link HnswlibStore.load}.
   */
  async save(path: string): Promise<void> {
    const scratch = scratchPath();
    try {
      await this.index.writeIndex(scratch);
      const graph = new Uint8Array(await readFile(scratch));
      const ids = this.ids.map((id, label) => (this.labels.get(id) === label ? id : null));
      const header = { kind: 'hnswlib', dimension: this.dimension, metric: this.metric };
      const file = encodeIndexFile({ ...header, efSearch: this.efSearch, ids }, [graph]);
      await writeFileAtomic(path, file);
    } finally {
      await rm(scratch, { force: true });
    }
  }

  /**
   * Reads a store written by {@link HnswlibStore.save}: the same graph, ids, deletions and
   * distances.
   *
   * @throws IndexFileError - no file at `path`, a truncated or corrupt file, another kind of
   *   index, or a graph hnswlib cannot read
   * @throws TypeError - `hnswlib-node` not installed
   */
  static async load(path: string): Promise<HnswlibStore> {
    const where = 'HnswlibStore.load';
    const bytes = await readIndexFile(path);
    const { header, sections } = decodeIndexFile(bytes, path);
    if (header.kind !== 'hnswlib' || sections.length !== 1)
      throw new IndexFileError(
        `${path}: a ${JSON.stringify(header.kind)} index, not an hnswlib one${header.kind === 'hnsw' || header.kind === 'flat' ? ' (read it with loadIndex from @tessera/rag/node)' : ''}`,
      );
    const { dimension, metric, efSearch, ids } = header as {
      dimension: number;
      metric: Metric;
      efSearch: number;
      ids: (string | null)[];
    };
    const lib = await hnswlib(where);
    const index = new lib.HierarchicalNSW(SPACE[checkMetric(where, metric)], dimension);
    const scratch = scratchPath();
    try {
      await writeFileAtomic(scratch, sections[0]!);
      await index.readIndex(scratch);
    } catch (e) {
      throw new IndexFileError(`${path}: hnswlib cannot read the graph (${(e as Error).message})`);
    } finally {
      await rm(scratch, { force: true });
    }
    if (index.getCurrentCount() !== ids.length)
      throw new IndexFileError(
        `${path}: the graph holds ${index.getCurrentCount()} vectors, the header names ${ids.length}`,
      );
    const store = new HnswlibStore(index, dimension, metric, efSearch);
    ids.forEach((id, label) => {
      store.ids.push(id ?? '');
      if (id !== null) store.labels.set(id, label);
    });
    store.live = store.labels.size;
    return store;
  }

  /** hnswlib's distance in this package's convention. */
  private distance(d: number): number {
    if (this.metric === 'l2') return Math.sqrt(Math.max(0, d));
    return this.metric === 'dot' ? d - 1 : d;
  }
}
