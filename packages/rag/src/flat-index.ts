import { distanceKey, keyToDistance, storedForm } from './distance.js';
import {
  decodeIndexFile,
  encodeIndexFile,
  IndexFileError,
  type IndexFileImage,
  sectionAs,
} from './index-file.js';
import { checkOptions } from './options.js';
import { TopK } from './top-k.js';
import {
  checkDimension,
  checkK,
  checkMetric,
  checkRecords,
  checkVector,
  type Metric,
  type VectorHit,
  type VectorRecord,
  type VectorStore,
} from './vector-store.js';

/** Options of {@link FlatIndex}. */
export interface FlatIndexOptions {
  /** Values per vector. */
  dimension: number;
  /** Default `'cosine'`. */
  metric?: Metric;
}

/**
 * Exact nearest-neighbour search: every query is compared with every stored vector. The baseline
 * the HNSW index is measured against, and the right index up to some ten thousand vectors.
 * Vectors are kept as `Float32Array`s (unit length under cosine); deletion moves the last vector
 * into the freed slot, so memory stays `4 · dimension` bytes per vector.
 */
export class FlatIndex implements VectorStore {
  readonly dimension: number;
  readonly metric: Metric;
  private data: Float32Array;
  private ids: string[] = [];
  private slots = new Map<string, number>();

  /** @throws RangeError or TypeError - bad dimension, metric or unknown option */
  constructor(options: FlatIndexOptions) {
    checkOptions('FlatIndex', options, ['dimension', 'metric']);
    this.dimension = checkDimension('FlatIndex', options?.dimension);
    this.metric = checkMetric('FlatIndex', options.metric ?? 'cosine');
    this.data = new Float32Array(this.dimension * 16);
  }

  size(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.slots.has(id);
  }

  /**
   * Adds records, all or nothing.
   *
   * @throws RangeError or TypeError - a wrong dimension, non-finite value, zero cosine vector, or
   *   an id repeated or already stored; nothing is added
   */
  add(records: readonly VectorRecord[]): void {
    checkRecords('FlatIndex.add', records, this.dimension, this.metric, (id) => this.has(id));
    const d = this.dimension;
    const need = (this.ids.length + records.length) * d;
    if (need > this.data.length) {
      const grown = new Float32Array(Math.max(need, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    for (const r of records) {
      this.data.set(storedForm(r.vector, this.metric), this.ids.length * d);
      this.slots.set(r.id, this.ids.length);
      this.ids.push(r.id);
    }
  }

  /** Removes the ids that are present (the last vector moves into each freed slot). */
  delete(ids: readonly string[]): void {
    const d = this.dimension;
    for (const id of ids) {
      const slot = this.slots.get(id);
      if (slot === undefined) continue;
      const last = this.ids.length - 1;
      const lastId = this.ids.pop()!;
      this.slots.delete(id);
      if (slot !== last) {
        this.data.copyWithin(slot * d, last * d, last * d + d);
        this.ids[slot] = lastId;
        this.slots.set(lastId, slot);
      }
    }
  }

  /**
   * The `k` nearest vectors to `query`, nearest first; equal distances keep insertion order.
   *
   * @throws RangeError - `k` is not a positive integer, or the query has the wrong dimension
   */
  search(query: ArrayLike<number>, k: number): VectorHit[] {
    checkK('FlatIndex.search', k);
    checkVector('FlatIndex.search', 'query', query, this.dimension, this.metric);
    const q = storedForm(query, this.metric);
    const top = new TopK(Math.min(k, this.ids.length));
    if (top.k === 0) return [];
    const d = this.dimension;
    for (let i = 0; i < this.ids.length; i++) {
      const key = distanceKey(this.metric, q, 0, this.data, i * d, d);
      if (key < top.worst()) top.push(key, i);
    }
    return top
      .sorted()
      .map(({ key, item }) => ({ id: this.ids[item]!, distance: keyToDistance(this.metric, key) }));
  }

  /** The index as a file image (see `index-file.ts`); `FlatIndex.fromBytes` reads it back. */
  toBytes(): Uint8Array {
    const header = { kind: 'flat', metric: this.metric, dimension: this.dimension, ids: this.ids };
    return encodeIndexFile(header, [this.data.subarray(0, this.ids.length * this.dimension)]);
  }

  /**
   * Reads an image written by {@link FlatIndex.toBytes}.
   *
   * @param source - names the file in error messages
   * @throws IndexFileError - not a flat index, or a corrupt or truncated image
   */
  static fromBytes(bytes: Uint8Array | IndexFileImage, source = 'index'): FlatIndex {
    const image = bytes instanceof Uint8Array ? decodeIndexFile(bytes, source) : bytes;
    const { kind, metric, dimension, ids } = image.header;
    if (kind !== 'flat')
      throw new IndexFileError(`${source}: holds a ${String(kind)} index, not a flat index`);
    if (!Array.isArray(ids)) throw new IndexFileError(`${source}: header has no ids`);
    let index: FlatIndex;
    try {
      index = new FlatIndex({ dimension: dimension as number, metric: metric as Metric });
    } catch (e) {
      throw new IndexFileError(`${source}: bad header (${(e as Error).message})`);
    }
    const data = sectionAs(image, 0, Float32Array, ids.length * index.dimension, source);
    index.data = data.length > 0 ? data : index.data;
    index.ids = ids as string[];
    index.slots = new Map(index.ids.map((id, i) => [id, i]));
    return index;
  }
}
