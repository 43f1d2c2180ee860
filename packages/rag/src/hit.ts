import type { VectorHit } from './vector-store.js';

/** A ranked result with a score: higher is better. */
export interface Hit {
  readonly id: string;
  readonly score: number;
}

/** Vector hits as scored hits (score = −distance), for fusion with other rankings. */
export function scoresFromDistances(hits: readonly VectorHit[]): Hit[] {
  return hits.map((h) => ({ id: h.id, score: -h.distance }));
}
