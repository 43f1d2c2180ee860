import type { ForwardOptions } from '@tessera/sampler';
import { type Device, type Tensor, tensor } from '@tessera/tensor-webgpu';
import type { TokenBatch } from './packing.js';

/** A `TokenBatch` on the device: ids i32 [rows, length] and the loss mask f32 [rows, length]. */
export interface BatchTensors {
  ids: Tensor;
  lossMask: Tensor;
}

/** Uploads a batch's ids and loss mask to `device` (the caller disposes them, or runs in `tidy`). */
export function batchTensors(batch: TokenBatch, device: Device): BatchTensors {
  const shape = [batch.rows, batch.length];
  return {
    ids: tensor(batch.ids, { shape, dtype: 'i32', device }),
    lossMask: tensor(batch.lossMask, { shape, device }),
  };
}

/**
 * What `CausalLM.forward` needs to keep a batch's packed examples apart: none for one example
 * per row (`padSequences`); for packed rows (`packSequences`) the position ids, restarting at
 * each example, and the document ids (document-masked attention). The caller disposes them, or
 * runs in `tidy`.
 */
export function packingOptions(
  batch: TokenBatch,
  device: Device,
): Pick<ForwardOptions, 'positions' | 'documentIds'> {
  if (batch.examples.every((items) => items.length <= 1)) return {};
  const shape = [batch.rows, batch.length];
  return {
    positions: tensor(batch.positionIds, { shape, dtype: 'i32', device }),
    documentIds: tensor(Float32Array.from(batch.documentIds), { shape, device }),
  };
}

/**
 * Throws unless every row of `batch` holds one example (`padSequences`, `preferenceBatch`):
 * the models these steps drive attend causally over the whole row, so packed examples
 * (`packSequences`) would read each other (see `TokenBatch` on document-masked attention).
 */
export function checkOnePerRow(where: string, batch: TokenBatch): void {
  const packed = batch.examples.findIndex((items) => items.length !== 1);
  if (packed >= 0)
    throw new RangeError(
      `${where}: row ${packed} holds ${batch.examples[packed]!.length} examples; a CausalLM attends causally over the whole row, so packed examples would attend to each other — batch with padSequences (one example per row)`,
    );
}

/**
 * The index of each row's last real token (the last before padding): where a reward model reads
 * its score (TRL's `first_true_indices(ids == pad) − 1`). Needs one example per row.
 */
export function lastTokenIndices(batch: TokenBatch): number[] {
  const { rows, length, documentIds } = batch;
  return Array.from({ length: rows }, (_, r) => {
    let t = 0;
    while (t + 1 < length && documentIds[r * length + t + 1] === 0) t++;
    return t;
  });
}

/** f32 [rows, length], 1 at each row's position in `indices`, else 0: multiply and sum to pick one entry per row. */
export function oneHotRows(indices: readonly number[], length: number, device: Device): Tensor {
  const data = new Float32Array(indices.length * length);
  indices.forEach((t, r) => {
    data[r * length + t] = 1;
  });
  return tensor(data, { shape: [indices.length, length], device });
}
