import type { Metric } from './vector-store.js';

/** a[aOff …] · b[bOff …] over `dim` values (four accumulators: fewer dependent adds). */
export function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dim: number) {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dim; i += 4) {
    s0 += a[aOff + i]! * b[bOff + i]!;
    s1 += a[aOff + i + 1]! * b[bOff + i + 1]!;
    s2 += a[aOff + i + 2]! * b[bOff + i + 2]!;
    s3 += a[aOff + i + 3]! * b[bOff + i + 3]!;
  }
  for (; i < dim; i++) s0 += a[aOff + i]! * b[bOff + i]!;
  return s0 + s1 + s2 + s3;
}

/** ‖a[aOff …] − b[bOff …]‖² over `dim` values. */
export function squaredL2(
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  dim: number,
) {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dim; i += 4) {
    const d0 = a[aOff + i]! - b[bOff + i]!;
    const d1 = a[aOff + i + 1]! - b[bOff + i + 1]!;
    const d2 = a[aOff + i + 2]! - b[bOff + i + 2]!;
    const d3 = a[aOff + i + 3]! - b[bOff + i + 3]!;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < dim; i++) {
    const d = a[aOff + i]! - b[bOff + i]!;
    s0 += d * d;
  }
  return s0 + s1 + s2 + s3;
}

/**
 * The vector as the indexes store it: a `Float32Array` copy, scaled to unit length under cosine
 * (so that 1 − a·b is the cosine distance).
 */
export function storedForm(vector: ArrayLike<number>, metric: Metric): Float32Array {
  const v = Float32Array.from(vector);
  if (metric === 'cosine') {
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < v.length; i++) v[i] = v[i]! * scale;
  }
  return v;
}

/**
 * A key that orders like the metric's distance, cheap to compute on stored forms: 1 − a·b
 * (cosine, unit vectors), −a·b (dot), ‖a − b‖² (l2). {@link keyToDistance} turns it into the
 * reported distance.
 */
export function distanceKey(
  metric: Metric,
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  dim: number,
): number {
  if (metric === 'l2') return squaredL2(a, aOff, b, bOff, dim);
  const d = dot(a, aOff, b, bOff, dim);
  return metric === 'cosine' ? 1 - d : -d;
}

/** The distance a store reports for a key: the square root under l2, the key itself otherwise. */
export function keyToDistance(metric: Metric, key: number): number {
  return metric === 'l2' ? Math.sqrt(Math.max(0, key)) : key;
}

/**
 * {@link distanceKey} of one query against `count` stored vectors at once (offsets into `data`),
 * written to `out`. Vectors are taken four at a time, so each step issues four independent loads
 * and the processor overlaps their cache misses: a graph search visits vectors scattered through
 * memory, and waiting on them one by one costs more than the arithmetic.
 */
export function distanceKeys(
  metric: Metric,
  q: Float32Array,
  qOff: number,
  data: Float32Array,
  offsets: Int32Array,
  count: number,
  dim: number,
  out: Float64Array,
): void {
  const l2 = metric === 'l2';
  let j = 0;
  for (; j + 3 < count; j += 4) {
    const o0 = offsets[j]!;
    const o1 = offsets[j + 1]!;
    const o2 = offsets[j + 2]!;
    const o3 = offsets[j + 3]!;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    if (l2) {
      for (let i = 0; i < dim; i++) {
        const x = q[qOff + i]!;
        const d0 = x - data[o0 + i]!;
        const d1 = x - data[o1 + i]!;
        const d2 = x - data[o2 + i]!;
        const d3 = x - data[o3 + i]!;
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
      }
    } else {
      for (let i = 0; i < dim; i++) {
        const x = q[qOff + i]!;
        s0 += x * data[o0 + i]!;
        s1 += x * data[o1 + i]!;
        s2 += x * data[o2 + i]!;
        s3 += x * data[o3 + i]!;
      }
    }
    out[j] = l2 ? s0 : metric === 'cosine' ? 1 - s0 : -s0;
    out[j + 1] = l2 ? s1 : metric === 'cosine' ? 1 - s1 : -s1;
    out[j + 2] = l2 ? s2 : metric === 'cosine' ? 1 - s2 : -s2;
    out[j + 3] = l2 ? s3 : metric === 'cosine' ? 1 - s3 : -s3;
  }
  for (; j < count; j++) out[j] = distanceKey(metric, q, qOff, data, offsets[j]!, dim);
}
