/** Shared inputs of the transformer's tests: a small config and the PyTorch Llama fixture. */
import { readFileSync } from 'node:fs';
import type { Device } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import type { TransformerConfig } from '@tessera/transformer';

export const small: TransformerConfig = {
  vocabSize: 50,
  dModel: 32,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  maxSeqLen: 64,
  seed: 3,
};

/** A tiny Llama checkpoint and its logits from an independent PyTorch implementation. */
export const llama = {
  ...(JSON.parse(
    readFileSync(new URL('../../fixtures/tiny-llama.json', import.meta.url), 'utf8'),
  ) as { config: TransformerConfig; ids: number[][]; logits: number[] }),
  checkpoint: new Uint8Array(
    readFileSync(new URL('../../fixtures/tiny-llama.safetensors', import.meta.url)),
  ),
};

/** i32 ids [rows, T] on `device`. */
export const ids2d = (rows: readonly (readonly number[])[], device: Device) =>
  T.tensor(Int32Array.from(rows.flat()), { shape: [rows.length, rows[0]!.length], device });

/** Live bytes on `device` once the garbage collector has finished with earlier tests' tensors. */
export async function settledLiveBytes(device: Device): Promise<number> {
  for (let i = 0; i < 2; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  return device.memory().liveBytes;
}
