import { readFileSync } from 'node:fs';
import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { cpu, all, underTest } = await testDevices();

/** PyTorch's results for NaN and ±inf through comparing ops (fixtures/make_nan_rules.py). */
const nanRules = JSON.parse(
  readFileSync(new URL('../../fixtures/nan-rules.json', import.meta.url), 'utf8'),
) as Record<string, (number | string)[]>;
const fixture = (key: string) =>
  nanRules[key]!.map((v) =>
    typeof v === 'number' ? v : Number(v.replace('inf', 'Infinity').replace('nan', 'NaN')),
  );
const backends = underTest.length > 0 ? underTest : [cpu];

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

describe.each(all)('NaN ranks above every number, as PyTorch ($info.backend)', (dev) => {
  it('argmax picks the first NaN; topk puts NaNs first, in index order', async () => {
    const ranked = T.tensor(fixture('ranked'), { device: dev, shape: [2, 5] });
    expect(Array.from(await T.argmax(ranked, 1).data())).toEqual(fixture('argmax'));
    const { values, indices } = T.topk(ranked, 3, 1);
    expect(Array.from(await values.data())).toEqual(fixture('topkValues'));
    expect(Array.from(await indices.data())).toEqual(fixture('topkIndices'));
  });
});
