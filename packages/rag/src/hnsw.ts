import { distanceKey, distanceKeys, keyToDistance, storedForm } from './distance.js';
import {
  decodeIndexFile,
  encodeIndexFile,
  IndexFileError,
  type IndexFileImage,
  sectionAs,
} from './index-file.js';
import { NodeHeap } from './node-heap.js';
import { checkOptions } from './options.js';
import { SeededUniform } from './random.js';
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

/** Options of {@link HnswIndex}; the defaults are hnswlib's. */
export interface HnswOptions {
  /** Values per vector. */
  dimension: number;
  /** Default `'cosine'`. */
  metric?: Metric;
  /** Links per node on the upper layers (M); layer 0 keeps up to 2·M. Default 16. */
  m?: number;
  /** Candidate list size while inserting (efConstruction). Default 200. */
  efConstruction?: number;
  /** Candidate list size while searching (ef); a search uses max(efSearch, k). Default 64. */
  efSearch?: number;
  /** Seed of the random layer assignment. Default 100. */
  seed?: number;
}

/** The keys of {@link HnswOptions}, for `checkOptions`. */
export const HNSW_OPTION_KEYS = ['dimension', 'metric', 'm', 'efConstruction', 'efSearch', 'seed'];

function positiveInteger(where: string, name: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw new RangeError(`${where}: ${name} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

/**
 * Hierarchical navigable small-world graph (Malkov & Yashunin, "Efficient and robust approximate
 * nearest neighbor search using Hierarchical Navigable Small World graphs", 2016/2018), in plain
 * TypeScript on `Float32Array`s, following the paper's algorithms as hnswlib implements them:
 *
 * - each node draws its top layer as ⌊−ln(U) · mL⌋ with mL = 1/ln(M) (Algorithm 1);
 * - an insert descends greedily to its top layer, then on each layer below searches with
 *   `efConstruction` candidates (Algorithm 2) and links to M neighbours chosen by the heuristic
 *   of Algorithm 4 (a candidate is kept only if it is closer to the new node than to every
 *   neighbour already kept); a neighbour whose list overflows (M, or 2·M on layer 0) is pruned
 *   with the same heuristic;
 * - a search descends greedily, then searches layer 0 with max(efSearch, k) candidates
 *   (Algorithm 5).
 *
 * Deletion marks a tombstone: the node keeps routing searches but is never returned, and its id
 * may be added again as a new node. {@link HnswIndex.compact} repairs the graph — every live node
 * that linked to a deleted one re-chooses its neighbours with the heuristic among its live
 * neighbours and the deleted node's live neighbours — and drops the tombstones. Under cosine the
 * stored vectors are scaled to unit length.
 */
export class HnswIndex implements VectorStore {
  readonly dimension: number;
  readonly metric: Metric;
  /** M: links per node on the upper layers. */
  readonly m: number;
  /** Links per node on layer 0 (2·M). */
  readonly m0: number;
  readonly efConstruction: number;
  readonly seed: number;
  private ef: number;
  private readonly mL: number;
  private rng: SeededUniform;

  private capacity = 0;
  private count = 0;
  private live = 0;
  private vectors = new Float32Array(0);
  private levels = new Uint8Array(0);
  private deleted = new Uint8Array(0);
  /** Layer-0 links, m0 + 1 slots per node: the count, then the neighbours. */
  private links0 = new Int32Array(0);
  /** Upper-layer links of each node: layer l ≥ 1 at (l − 1)·(m + 1), count first. */
  private upper: (Int32Array | null)[] = [];
  private ids: (string | null)[] = [];
  private nodeOf = new Map<string, number>();
  private entry = -1;
  private maxLevel = -1;

  private visited = new Uint16Array(0);
  private visitTag = 0;
  private readonly candidates = new NodeHeap();
  /** Scratch of the layer search: unvisited neighbours' vector offsets and their keys. */
  private readonly fresh: Int32Array;
  private readonly freshKeys: Float64Array;
  /** Scratch of the neighbour heuristic: the kept neighbours' offsets and keys to a candidate. */
  private readonly keptOffsets: Int32Array;
  private readonly keptKeys: Float64Array;
  private readonly results = new NodeHeap();

  /** @throws RangeError or TypeError - a bad dimension, metric, m, ef or seed, or an unknown option */
  constructor(options: HnswOptions) {
    checkOptions('HnswIndex', options, HNSW_OPTION_KEYS);
    this.dimension = checkDimension('HnswIndex', options?.dimension);
    this.metric = checkMetric('HnswIndex', options.metric ?? 'cosine');
    this.m = positiveInteger('HnswIndex', 'm', options.m ?? 16, 2);
    this.m0 = 2 * this.m;
    this.efConstruction = positiveInteger(
      'HnswIndex',
      'efConstruction',
      options.efConstruction ?? 200,
    );
    this.ef = positiveInteger('HnswIndex', 'efSearch', options.efSearch ?? 64);
    this.seed = positiveInteger('HnswIndex', 'seed', options.seed ?? 100, 0);
    this.mL = 1 / Math.log(this.m);
    this.rng = new SeededUniform(this.seed);
    this.fresh = new Int32Array(this.m0 + 1);
    this.keptOffsets = new Int32Array(this.m0);
    this.keptKeys = new Float64Array(this.m0);
    this.freshKeys = new Float64Array(this.m0 + 1);
    this.reserve(16);
  }

  /** Candidate list size of a search (ef); a search uses max(efSearch, k). */
  get efSearch(): number {
    return this.ef;
  }

  /** @throws RangeError - not a positive integer */
  set efSearch(value: number) {
    this.ef = positiveInteger('HnswIndex', 'efSearch', value);
  }

  size(): number {
    return this.live;
  }

  has(id: string): boolean {
    return this.nodeOf.has(id);
  }

  /** Deleted nodes still in the graph (routing searches until {@link HnswIndex.compact}). */
  tombstones(): number {
    return this.count - this.live;
  }

  /** Bytes held by the vectors and links (typed arrays at their current capacity). */
  memoryBytes(): number {
    let bytes =
      this.vectors.byteLength +
      this.levels.byteLength +
      this.deleted.byteLength +
      this.links0.byteLength +
      this.visited.byteLength;
    for (let i = 0; i < this.count; i++) bytes += this.upper[i]?.byteLength ?? 0;
    return bytes;
  }

  /**
   * Inserts records one by one (Algorithm 1), all or nothing: the batch is checked first.
   *
   * @throws RangeError or TypeError - a wrong dimension, non-finite value, zero cosine vector, or
   *   an id repeated or already stored; nothing is added
   */
  add(records: readonly VectorRecord[]): void {
    checkRecords('HnswIndex.add', records, this.dimension, this.metric, (id) => this.has(id));
    if (this.count + records.length > this.capacity)
      this.reserve(Math.max(this.count + records.length, this.capacity * 2));
    for (const r of records) this.insert(r.id, storedForm(r.vector, this.metric));
  }

  /** Marks the ids that are present as deleted (tombstones); unknown ids are ignored. */
  delete(ids: readonly string[]): void {
    for (const id of ids) {
      const node = this.nodeOf.get(id);
      if (node === undefined) continue;
      this.nodeOf.delete(id);
      this.ids[node] = null;
      this.deleted[node] = 1;
      this.live--;
    }
  }

  /**
   * The `k` approximate nearest live vectors to `query`, nearest first.
   *
   * @throws RangeError - `k` is not a positive integer, or the query has the wrong dimension
   */
  search(query: ArrayLike<number>, k: number): VectorHit[] {
    checkK('HnswIndex.search', k);
    checkVector('HnswIndex.search', 'query', query, this.dimension, this.metric);
    if (this.live === 0) return [];
    const q = storedForm(query, this.metric);
    let ep = this.entry;
    let epKey = this.key(q, 0, ep);
    for (let level = this.maxLevel; level > 0; level--) {
      [ep, epKey] = this.greedy(q, 0, ep, epKey, level);
    }
    this.searchLayer(q, 0, ep, epKey, Math.max(this.ef, k), 0);
    const found = this.drainResults();
    return found.slice(0, k).map(([key, node]) => ({
      id: this.ids[node]!,
      distance: keyToDistance(this.metric, key),
    }));
  }

  /**
   * Repairs the graph around deleted nodes and removes them, so that memory and search cost no
   * longer carry tombstones. Each live node that linked to a deleted node re-chooses its
   * neighbours on that layer with the heuristic (Algorithm 4) among its live neighbours and the
   * deleted neighbours' live neighbours; the entry point moves to a live node of the highest layer.
   */
  compact(): void {
    if (this.live === this.count) return;
    for (let v = 0; v < this.count; v++) {
      if (this.deleted[v]) continue;
      for (let level = 0; level <= this.levels[v]!; level++) this.repair(v, level);
    }
    const newIndex = new Int32Array(this.count).fill(-1);
    let n = 0;
    for (let v = 0; v < this.count; v++) if (!this.deleted[v]) newIndex[v] = n++;
    const d = this.dimension;
    const stride0 = this.m0 + 1;
    const strideU = this.m + 1;
    let entry = -1;
    for (let v = 0; v < this.count; v++) {
      const to = newIndex[v]!;
      if (to < 0) continue;
      this.vectors.copyWithin(to * d, v * d, v * d + d);
      this.levels[to] = this.levels[v]!;
      this.deleted[to] = 0;
      this.ids[to] = this.ids[v]!;
      this.nodeOf.set(this.ids[to]!, to);
      const base = v * stride0;
      const count = this.links0[base]!;
      this.links0[to * stride0] = count;
      for (let j = 1; j <= count; j++)
        this.links0[to * stride0 + j] = newIndex[this.links0[base + j]!]!;
      const up = this.upper[v] ?? null;
      if (up)
        for (let l = 0; l < this.levels[v]!; l++)
          for (let j = 1; j <= up[l * strideU]!; j++)
            up[l * strideU + j] = newIndex[up[l * strideU + j]!]!;
      this.upper[to] = up;
      if (entry < 0 || this.levels[to]! > this.levels[entry]!) entry = to;
    }
    for (let v = n; v < this.count; v++) {
      this.upper[v] = null;
      this.ids[v] = null;
      this.deleted[v] = 0;
    }
    this.count = n;
    this.entry = entry;
    this.maxLevel = entry < 0 ? -1 : this.levels[entry]!;
  }

  /** Algorithm 1: insert one stored-form vector as a new node. */
  private insert(id: string, vector: Float32Array): void {
    const node = this.count++;
    const d = this.dimension;
    this.vectors.set(vector, node * d);
    const level = Math.min(255, Math.floor(-Math.log(1 - this.rng.next()) * this.mL));
    this.levels[node] = level;
    this.upper[node] = level > 0 ? new Int32Array(level * (this.m + 1)) : null;
    this.links0[node * (this.m0 + 1)] = 0;
    this.ids[node] = id;
    this.nodeOf.set(id, node);
    this.live++;
    // The first live node (the index empty, or every node in it deleted) starts the graph anew:
    // searches enter here; the tombstones stay apart until `compact` drops them.
    if (this.entry < 0 || this.live === 1) {
      this.entry = node;
      this.maxLevel = level;
      return;
    }
    const q = this.vectors;
    const qOff = node * d;
    let ep = this.entry;
    let epKey = this.key(q, qOff, ep);
    for (let lc = this.maxLevel; lc > level; lc--)
      [ep, epKey] = this.greedy(q, qOff, ep, epKey, lc);
    for (let lc = Math.min(level, this.maxLevel); lc >= 0; lc--) {
      this.searchLayer(q, qOff, ep, epKey, this.efConstruction, lc);
      const found = this.drainResults();
      if (found.length === 0) {
        // Every node this layer reaches is deleted: link through the one it entered by, which
        // keeps routing searches (as a tombstone does), so that the new node stays reachable.
        this.setLinks(node, lc, [ep]);
        this.connect(ep, node, lc);
        continue;
      }
      const chosen = this.selectNeighbours(found, this.m);
      this.setLinks(node, lc, chosen);
      for (const e of chosen) this.connect(e, node, lc);
      [epKey, ep] = found[0]!;
    }
    if (level > this.maxLevel) {
      this.entry = node;
      this.maxLevel = level;
    }
  }

  /** Adds `node` to `e`'s links on `level`, pruning with the heuristic when the list is full. */
  private connect(e: number, node: number, level: number): void {
    const [links, base] = this.linksOf(e, level);
    const max = level === 0 ? this.m0 : this.m;
    const count = links[base]!;
    if (count < max) {
      links[base + 1 + count] = node;
      links[base] = count + 1;
      return;
    }
    const d = this.dimension;
    const { fresh, freshKeys } = this;
    fresh[0] = node * d;
    for (let j = 1; j <= count; j++) fresh[j] = links[base + j]! * d;
    distanceKeys(this.metric, this.vectors, e * d, this.vectors, fresh, count + 1, d, freshKeys);
    const candidates: [number, number][] = [];
    for (let j = 0; j <= count; j++) candidates.push([freshKeys[j]!, fresh[j]! / d]);
    candidates.sort((a, b) => a[0] - b[0]);
    this.setLinks(e, level, this.selectNeighbours(candidates, max));
  }

  /** Re-chooses `v`'s neighbours on `level` when some of them are deleted (see `compact`). */
  private repair(v: number, level: number): void {
    const [links, base] = this.linksOf(v, level);
    const count = links[base]!;
    let hasDeleted = false;
    for (let j = 1; j <= count; j++) if (this.deleted[links[base + j]!]) hasDeleted = true;
    if (!hasDeleted) return;
    const pool = new Set<number>();
    for (let j = 1; j <= count; j++) {
      const n = links[base + j]!;
      if (!this.deleted[n]) {
        pool.add(n);
        continue;
      }
      const [nLinks, nBase] = this.linksOf(n, level);
      for (let i = 1; i <= nLinks[nBase]!; i++) {
        const m = nLinks[nBase + i]!;
        if (m !== v && !this.deleted[m]) pool.add(m);
      }
    }
    const d = this.dimension;
    const candidates: [number, number][] = [...pool].map((n) => [
      this.key(this.vectors, v * d, n),
      n,
    ]);
    candidates.sort((a, b) => a[0] - b[0]);
    this.setLinks(v, level, this.selectNeighbours(candidates, level === 0 ? this.m0 : this.m));
  }

  /**
   * Algorithm 4 (without extending or keeping pruned candidates, as hnswlib): walk the
   * candidates nearest first and keep one when it is nearer to the base than to every kept one.
   *
   * @param candidates - (key to the base, node), sorted by key
   */
  private selectNeighbours(candidates: [number, number][], max: number): number[] {
    if (candidates.length <= max) return candidates.map((c) => c[1]);
    const d = this.dimension;
    const kept: number[] = [];
    const { keptOffsets, keptKeys } = this;
    for (const [key, node] of candidates) {
      if (kept.length >= max) break;
      distanceKeys(
        this.metric,
        this.vectors,
        node * d,
        this.vectors,
        keptOffsets,
        kept.length,
        d,
        keptKeys,
      );
      let good = true;
      for (let j = 0; j < kept.length; j++) {
        if (keptKeys[j]! < key) {
          good = false;
          break;
        }
      }
      if (good) {
        keptOffsets[kept.length] = node * d;
        kept.push(node);
      }
    }
    return kept;
  }

  private setLinks(node: number, level: number, neighbours: number[]): void {
    const [links, base] = this.linksOf(node, level);
    links[base] = neighbours.length;
    for (let j = 0; j < neighbours.length; j++) links[base + 1 + j] = neighbours[j]!;
  }

  /** The array holding `node`'s links on `level` and the offset of its count. */
  private linksOf(node: number, level: number): [Int32Array, number] {
    if (level === 0) return [this.links0, node * (this.m0 + 1)];
    return [this.upper[node]!, (level - 1) * (this.m + 1)];
  }

  /** Greedy descent on one upper layer (search with ef = 1): the nearest node reachable. */
  private greedy(
    q: Float32Array,
    qOff: number,
    ep: number,
    epKey: number,
    level: number,
  ): [number, number] {
    let best = ep;
    let bestKey = epKey;
    for (let changed = true; changed; ) {
      changed = false;
      const links = this.upper[best]!;
      const base = (level - 1) * (this.m + 1);
      const count = links[base]!;
      const { fresh, freshKeys, dimension: d } = this;
      for (let j = 0; j < count; j++) fresh[j] = links[base + 1 + j]! * d;
      distanceKeys(this.metric, q, qOff, this.vectors, fresh, count, d, freshKeys);
      for (let j = 0; j < count; j++) {
        if (freshKeys[j]! < bestKey) {
          bestKey = freshKeys[j]!;
          best = fresh[j]! / d;
          changed = true;
        }
      }
    }
    return [best, bestKey];
  }

  /**
   * Algorithm 2 on one layer, from one entry point: leaves the `ef` nearest live nodes found in
   * `this.results` (a max-heap: keys negated). Deleted nodes are expanded but not returned, and
   * the search goes on until `ef` live nodes are held (hnswlib's rule with deletions).
   */
  private searchLayer(
    q: Float32Array,
    qOff: number,
    ep: number,
    epKey: number,
    ef: number,
    level: number,
  ): void {
    const visited = this.visited;
    if (++this.visitTag === 0xffff) {
      visited.fill(0);
      this.visitTag = 1;
    }
    const tag = this.visitTag;
    const { candidates, results, deleted, vectors, dimension: dim, metric } = this;
    const { fresh, freshKeys } = this;
    candidates.clear();
    results.clear();
    visited[ep] = tag;
    candidates.push(epKey, ep);
    if (!deleted[ep]) results.push(-epKey, ep);
    let bound = results.size > 0 ? epKey : Number.POSITIVE_INFINITY;
    const stride = level === 0 ? this.m0 + 1 : this.m + 1;
    while (candidates.size > 0) {
      if (candidates.topKey() > bound && results.size >= ef) break;
      const c = candidates.pop();
      const links = level === 0 ? this.links0 : this.upper[c]!;
      const base = level === 0 ? c * stride : (level - 1) * stride;
      const count = links[base]!;
      // The unvisited neighbours' vector offsets, then all their keys in one pass.
      let k = 0;
      for (let j = 1; j <= count; j++) {
        const n = links[base + j]!;
        if (visited[n] === tag) continue;
        visited[n] = tag;
        fresh[k++] = n * dim;
      }
      distanceKeys(metric, q, qOff, vectors, fresh, k, dim, freshKeys);
      for (let j = 0; j < k; j++) {
        const key = freshKeys[j]!;
        if (results.size < ef || key < bound) {
          const n = fresh[j]! / dim;
          candidates.push(key, n);
          if (!deleted[n]) {
            results.push(-key, n);
            if (results.size > ef) results.pop();
            bound = -results.topKey();
          }
        }
      }
    }
  }

  /** Empties `this.results` into (key, node) pairs, nearest first. */
  private drainResults(): [number, number][] {
    const out: [number, number][] = new Array(this.results.size);
    for (let i = this.results.size - 1; i >= 0; i--) {
      const key = -this.results.topKey();
      out[i] = [key, this.results.pop()];
    }
    return out;
  }

  private key(q: Float32Array, qOff: number, node: number): number {
    return distanceKey(this.metric, q, qOff, this.vectors, node * this.dimension, this.dimension);
  }

  private reserve(capacity: number): void {
    const grow = <T extends Float32Array | Uint8Array | Int32Array | Uint16Array>(
      old: T,
      length: number,
    ): T => {
      const next = new (old.constructor as new (n: number) => T)(length);
      next.set(old);
      return next;
    };
    this.vectors = grow(this.vectors, capacity * this.dimension);
    this.levels = grow(this.levels, capacity);
    this.deleted = grow(this.deleted, capacity);
    this.links0 = grow(this.links0, capacity * (this.m0 + 1));
    this.visited = grow(this.visited, capacity);
    this.capacity = capacity;
  }

  /** The index as a file image (see `index-file.ts`); `HnswIndex.fromBytes` reads it back. */
  toBytes(): Uint8Array {
    const n = this.count;
    const header = {
      kind: 'hnsw',
      metric: this.metric,
      dimension: this.dimension,
      m: this.m,
      efConstruction: this.efConstruction,
      efSearch: this.ef,
      seed: this.seed,
      rngState: this.rng.state,
      entry: this.entry,
      maxLevel: this.maxLevel,
      ids: this.ids.slice(0, n),
    };
    let upperLength = 0;
    for (let v = 0; v < n; v++) upperLength += this.upper[v]?.length ?? 0;
    const upper = new Int32Array(upperLength);
    let at = 0;
    for (let v = 0; v < n; v++) {
      const up = this.upper[v];
      if (up) upper.set(up, at);
      at += up?.length ?? 0;
    }
    return encodeIndexFile(header, [
      this.vectors.subarray(0, n * this.dimension),
      this.levels.subarray(0, n),
      this.deleted.subarray(0, n),
      this.links0.subarray(0, n * (this.m0 + 1)),
      upper,
    ]);
  }

  /**
   * Reads an image written by {@link HnswIndex.toBytes}.
   *
   * @param source - names the file in error messages
   * @throws IndexFileError - not an HNSW index, or a corrupt or truncated image
   */
  static fromBytes(bytes: Uint8Array | IndexFileImage, source = 'index'): HnswIndex {
    const image = bytes instanceof Uint8Array ? decodeIndexFile(bytes, source) : bytes;
    const h = image.header;
    if (h.kind !== 'hnsw')
      throw new IndexFileError(`${source}: holds a ${String(h.kind)} index, not an HNSW index`);
    const ids = h.ids as (string | null)[];
    let index: HnswIndex;
    try {
      index = new HnswIndex({
        dimension: h.dimension as number,
        metric: h.metric as Metric,
        m: h.m as number,
        efConstruction: h.efConstruction as number,
        efSearch: h.efSearch as number,
        seed: h.seed as number,
      });
      if (!Array.isArray(ids)) throw new Error('no ids');
    } catch (e) {
      throw new IndexFileError(`${source}: bad header (${(e as Error).message})`);
    }
    const n = ids.length;
    index.reserve(Math.max(16, n));
    index.vectors.set(sectionAs(image, 0, Float32Array, n * index.dimension, source));
    const levels = sectionAs(image, 1, Uint8Array, n, source);
    index.levels.set(levels);
    index.deleted.set(sectionAs(image, 2, Uint8Array, n, source));
    index.links0.set(sectionAs(image, 3, Int32Array, n * (index.m0 + 1), source));
    let upperLength = 0;
    for (const l of levels) upperLength += l * (index.m + 1);
    const upper = sectionAs(image, 4, Int32Array, upperLength, source);
    let at = 0;
    for (let v = 0; v < n; v++) {
      const length = levels[v]! * (index.m + 1);
      index.upper[v] = length > 0 ? upper.slice(at, at + length) : null;
      at += length;
      const id = ids[v] ?? null;
      index.ids[v] = id;
      if (id !== null) index.nodeOf.set(id, v);
    }
    index.count = n;
    index.live = index.nodeOf.size;
    index.entry = h.entry as number;
    index.maxLevel = h.maxLevel as number;
    index.rng.state = h.rngState as number;
    const entryOk =
      n === 0
        ? index.entry === -1
        : index.entry >= 0 && index.entry < n && levels[index.entry] === index.maxLevel;
    if (!entryOk) throw new IndexFileError(`${source}: bad entry point ${String(h.entry)}`);
    return index;
  }
}
