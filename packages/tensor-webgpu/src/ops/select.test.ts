import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { gpu, cpu } = await testDevices();
const backends = gpu ? [gpu] : [cpu];

const _ids = (dev: Device, values: number[], shape?: number[]) =>
  T.tensor(Int32Array.from(values), { device: dev, shape });

const _values = smoothValues;

async function agree(fn: (dev: Device) => Tensor, tol = 1e-6): Promise<void> {
  for (const dev of backends) {
    const [got, want] = await Promise.all([fn(dev).data(), fn(cpu).data()]);
    expect(maxRelError(got, want)).toBeLessThanOrEqual(tol);
  }
}

describe('topk and argmax', () => {
  it('topk returns the k largest in order, ties by index, on any dim', async () => {
    for (const dev of backends) {
      const x = T.tensor(
        [
          [1, 5, 3, 5, -1],
          [0, 0, 0, 2, 1],
        ],
        { device: dev },
      );
      const { values: v, indices } = T.topk(x, 3);
      expect(await v.toArray()).toEqual([
        [5, 5, 3],
        [2, 1, 0],
      ]);
      expect(await indices.toArray()).toEqual([
        [1, 3, 2],
        [3, 4, 0],
      ]);
    }
    await agree((dev) => T.topk(T.randn([4, 700, 3], { device: dev, seed: 5 }), 7, 1).values);
    await agree((dev) => T.topk(T.randn([4, 700, 3], { device: dev, seed: 5 }), 7, 1).indices);
  });

  it('topk rejects k out of range and passes gradient to the picked elements', async () => {
    expect(() => T.topk(T.zeros([2, 3], { device: cpu }), 4)).toThrow(
      /k must be an integer in \[1, 3\]/,
    );
    const x = T.tensor([[1, 9, 3]], { device: cpu, requiresGrad: true });
    T.sum(T.topk(x, 2).values).backward();
    expect(await x.grad!.toArray()).toEqual([[0, 1, 1]]);
  });

  it('argmax takes the first maximum', async () => {
    for (const dev of [...backends, cpu]) {
      expect(
        await T.argmax(
          T.tensor(
            [
              [1, 7, 7],
              [9, 2, 9],
            ],
            { device: dev },
          ),
          1,
        ).toArray(),
      ).toEqual([1, 0]);
      expect(
        await T.argmax(
          T.tensor(
            [
              [1, 7],
              [9, 2],
            ],
            { device: dev },
          ),
        ).item(),
      ).toBe(2);
    }
  });
});
