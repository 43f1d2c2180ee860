/**
 * How vectors are compared. Every store reports a distance (smaller is closer), the convention
 * pgvector's operators use:
 * - `cosine`: 1 − cos(a, b), in [0, 2] (`<=>`);
 * - `dot`: −a·b, the negated inner product (`<#>`), for embeddings trained for it;
 * - `l2`: the Euclidean distance ‖a − b‖, not squared (`<->`).
 */
export type Metric = 'cosine' | 'dot' | 'l2';

/** The metrics, for checks and messages. */
export const METRICS: readonly Metric[] = ['cosine', 'dot', 'l2'];

/** A vector with the id of what it embeds (usually a chunk id). */
export interface VectorRecord {
  readonly id: string;
  /** `dimension` finite values; a cosine vector must not be all zeros. */
  readonly vector: ArrayLike<number>;
}

/** One search result: an id and its distance to the query under the store's metric. */
export interface VectorHit {
  readonly id: string;
  readonly distance: number;
}

/**
 * What a vector store does, in process (`FlatIndex`, `HnswIndex`) or in a database
 * (`@tessera/rag/lancedb`, `@tessera/rag/pgvector`). Methods may return promises; callers await.
 * `add` is all or nothing: a bad record (wrong dimension, non-finite value, an id given twice or
 * already stored) fails the whole call before anything is written.
 */
export interface VectorStore {
  /** Values per vector. */
  readonly dimension: number;
  readonly metric: Metric;
  /** Adds records; ids must be new (delete first to replace). */
  add(records: readonly VectorRecord[]): void | Promise<void>;
  /** Removes the ids that are present; unknown ids are ignored. */
  delete(ids: readonly string[]): void | Promise<void>;
  /** The `k` nearest records, nearest first (fewer when the store holds fewer). */
  search(query: ArrayLike<number>, k: number): VectorHit[] | Promise<VectorHit[]>;
  /** Records stored (deleted ones not counted). */
  size(): number | Promise<number>;
}

/** @throws RangeError - `value` (the argument `name` of `where`) is not a positive integer */
export function checkPositiveInteger(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new RangeError(`${where}: ${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/** @throws RangeError - `dimension` is not a positive integer */
export function checkDimension(where: string, dimension: unknown): number {
  return checkPositiveInteger(where, 'dimension', dimension);
}

/** @throws RangeError - `metric` is not one of {@link METRICS} */
export function checkMetric(where: string, metric: unknown): Metric {
  if (!METRICS.includes(metric as Metric))
    throw new RangeError(
      `${where}: metric must be one of ${METRICS.join(', ')}, got ${JSON.stringify(metric)}`,
    );
  return metric as Metric;
}

/** @throws RangeError - `k` is not a positive integer */
export function checkK(where: string, k: unknown): number {
  return checkPositiveInteger(where, 'k', k);
}

/**
 * Checks one vector: array-like, `dimension` finite values, not all zeros under cosine.
 *
 * @param name - how the message names it, e.g. `records[3].vector` or `query`
 * @throws RangeError - naming `name`, the length or value and what was expected
 */
export function checkVector(
  where: string,
  name: string,
  vector: unknown,
  dimension: number,
  metric: Metric,
): ArrayLike<number> {
  const v = vector as ArrayLike<number> | null | undefined;
  if (v === null || typeof v !== 'object' || typeof v.length !== 'number')
    throw new TypeError(`${where}: ${name} must be a Float32Array or number[], got ${typeof v}`);
  if (v.length !== dimension)
    throw new RangeError(
      `${where}: ${name} has ${v.length} values, expected the dimension ${dimension}`,
    );
  let norm = 0;
  for (let i = 0; i < dimension; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new RangeError(`${where}: ${name}[${i}] is ${String(x)}, expected a finite number`);
    norm += x * x;
  }
  if (metric === 'cosine' && norm === 0)
    throw new RangeError(`${where}: ${name} is all zeros, which has no cosine direction`);
  return v;
}

/**
 * Checks a batch before anything is written: each record's id is a non-empty string, given once
 * and not already stored (`has`), and its vector passes {@link checkVector}.
 *
 * @throws TypeError or RangeError - naming the record's index and id
 */
export function checkRecords(
  where: string,
  records: readonly VectorRecord[],
  dimension: number,
  metric: Metric,
  has: (id: string) => boolean,
): void {
  if (!Array.isArray(records))
    throw new TypeError(`${where}: records must be an array of { id, vector }`);
  const seen = new Set<string>();
  records.forEach((r, i) => {
    if (typeof r?.id !== 'string' || r.id === '')
      throw new TypeError(
        `${where}: records[${i}].id must be a non-empty string, got ${JSON.stringify(r?.id)}`,
      );
    if (seen.has(r.id))
      throw new RangeError(`${where}: duplicate id ${JSON.stringify(r.id)} in records[${i}]`);
    if (has(r.id))
      throw new RangeError(
        `${where}: id ${JSON.stringify(r.id)} (records[${i}]) is already stored; delete it first to replace it`,
      );
    seen.add(r.id);
    checkVector(where, `records[${i}].vector`, r.vector, dimension, metric);
  });
}

/** A database store that cannot be reached or refused to work: the cause is attached. */
export class StoreConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreConnectionError';
  }
}
