import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { expect } from 'vitest';

/** All the test devices; the CPU reference; those under test (WebGPU, wasm, else the CPU). */
export const { all, cpu, underTest } = await testDevices();
export const backends = underTest.length > 0 ? underTest : [cpu];

/** Random normal data scaled by `scale`, deterministic per seed, on a device. */
export function rnd(dev: Device, shape: number[], seed: number, scale = 1): Tensor {
  const x = T.randn(shape, { device: dev, seed });
  const y = T.mul(x, scale);
  x.dispose();
  return y;
}

/** Runs `fn` on each device under test and on the CPU reference; they must agree within `tol`. */
export async function agree(fn: (dev: Device) => Tensor, tol = 1e-5): Promise<void> {
  for (const dev of backends) {
    const [got, want] = await Promise.all([fn(dev).data(), fn(cpu).data()]);
    expect(maxRelError(got, want)).toBeLessThanOrEqual(tol);
  }
}
