import type { RopeConvention } from './apply.js';

/** The rope op's parameters (one call of `Rope.apply`, or its backward rotation). */
export interface RopeParams {
  convention: RopeConvention;
  rotary: number;
  seqLen: number;
  /** Rows (products of dims after the sequence axis, last excluded) between positions. */
  innerRows: number;
  /** Rows per index of axis 0 (products of every dim but the first and the last). */
  batchRows: number;
  /** Positions per batch row: the sequence length for per-row positions [batch, seq], else 0. */
  posStride: number;
  inverse: boolean;
}

/** Throws unless `pos` indexes a table of `positions` rows. */
export function checkPosition(pos: number, positions: number): void {
  if (pos < 0 || pos >= positions)
    throw new RangeError(`rope: position ${pos} is outside the tables (0..${positions - 1})`);
}
