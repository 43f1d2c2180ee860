import { readFileSync } from 'node:fs';
import { type Device, type DType, type Tensor, tensor } from '@tessera/tensor-webgpu';

/** The PyTorch reference values of fixtures/make_fixtures.py. */
export const fx = JSON.parse(
  readFileSync(new URL('../../fixtures/torch-grpo.json', import.meta.url), 'utf8'),
);

/** A tensor on `dev` from flat fixture numbers. */
export function t(
  dev: Device,
  data: ArrayLike<number>,
  shape: number[],
  dtype: DType = 'f32',
): Tensor {
  return tensor(Array.from(data), { device: dev, shape, dtype });
}
