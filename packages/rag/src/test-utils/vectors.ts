import { SeededUniform } from '../random.js';
import type { VectorRecord } from '../vector-store.js';

/** Test data: `n` seeded standard-normal vectors of `dimension` values, ids `${prefix}${i}`. */
export function gaussianVectors(
  n: number,
  dimension: number,
  seed: number,
  prefix = 'v',
): VectorRecord[] {
  const rng = new SeededUniform(seed);
  const normal = () =>
    Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    vector: Float32Array.from({ length: dimension }, normal),
  }));
}
