import * as T from '@tessera/tensor-webgpu';

/** A batch of next-token windows: inputs [batch, seqLen] and targets [batch·seqLen], both i32. */
export interface TokenBatch {
  x: T.Tensor;
  y: T.Tensor;
}

/**
 * A batch of (input, target) windows at seeded random offsets: the same seed always gives the
 * same batch, so a resumed run sees the batches an uninterrupted one would. Needs
 * `ids.length >= seqLen + 1` (see `checkSplitSize`).
 */
export function batchAt(
  ids: Int32Array,
  batch: number,
  seqLen: number,
  seed: number,
  device: T.Device,
): TokenBatch {
  const rng = new T.Rng(seed);
  const xs = new Int32Array(batch * seqLen);
  const ys = new Int32Array(batch * seqLen);
  for (let b = 0; b < batch; b++) {
    const o = Math.floor(rng.next() * (ids.length - seqLen - 1));
    xs.set(ids.subarray(o, o + seqLen), b * seqLen);
    ys.set(ids.subarray(o + 1, o + seqLen + 1), b * seqLen);
  }
  return {
    x: T.tensor(xs, { shape: [batch, seqLen], device }),
    y: T.tensor(ys, { shape: [batch * seqLen], device }),
  };
}
