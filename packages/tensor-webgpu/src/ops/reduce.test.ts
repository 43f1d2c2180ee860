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
// Each op runs on WebGPU and on the CPU reference; the two must agree.
const backends = underTest.length > 0 ? underTest : [cpu];

/** Random data, deterministic per seed, on a device. */
function rnd(dev: Device, shape: number[], seed: number, scale = 1): Tensor {
  const x = T.randn(shape, { device: dev, seed });
  const y = T.mul(x, scale);
  x.dispose();
  return y;
}

async function agree(fn: (dev: Device) => Tensor, tol = 1e-5): Promise<void> {
  for (const dev of backends) {
    const [got, want] = await Promise.all([fn(dev).data(), fn(cpu).data()]);
    expect(maxRelError(got, want)).toBeLessThanOrEqual(tol);
  }
}

describe('reductions', () => {
  for (const [name, op] of [
    ['sum', T.sum],
    ['max', T.max],
    ['min', T.min],
    ['mean', T.mean],
    ['sumOfSquares', T.sumOfSquares],
  ] as const) {
    it(`${name} over single and multiple axes, keepDim, on odd shapes`, async () => {
      await agree((dev) => op(rnd(dev, [3, 129, 5], 4), 1), 1e-5);
      await agree((dev) => op(rnd(dev, [3, 129, 5], 4), [0, 2], { keepDim: true }), 1e-5);
      await agree((dev) => op(rnd(dev, [1000], 4)), 1e-5);
      expect(op(rnd(cpu, [3, 4, 5], 1), [0, 2], { keepDim: true }).shape).toEqual([1, 4, 1]);
    });
  }

  it('sumOfSquares equals the sum of the squares, and refuses integers', async () => {
    for (const dev of [...backends, cpu]) {
      const x = rnd(dev, [7, 300], 3, 2);
      for (const axes of [undefined, 1, [0, 1]] as const) {
        const want = await T.sum(T.square(x), axes).data();
        expect(maxRelError(await T.sumOfSquares(x, axes).data(), want)).toBeLessThan(1e-5);
      }
    }
    // A full reduction of a transposed tensor (a weight's gradient) reads it in place.
    for (const dev of [...backends, cpu]) {
      const w = T.transpose(rnd(dev, [40, 30], 4));
      await dev.sync();
      let total: Tensor | undefined;
      const profile = await dev.profile(() => {
        total = T.sumOfSquares(w);
      });
      expect(profile.kernels.map((k) => k.name.split(':')[0])).toEqual([
        dev.backend === 'webgpu' ? 'reduce' : 'reduce_rows',
      ]);
      const want = await T.sum(T.square(w)).item();
      expect(await total!.item()).toBeCloseTo(want, 2);
    }
    expect(() => T.sumOfSquares(T.zeros([3], { device: cpu, dtype: 'i32' }))).toThrow(
      /sumOfSquares: expected a floating-point tensor, got i32/,
    );
  });

  it('sum of a reduction longer than a workgroup matches a float64 sum', async () => {
    const x = rnd(cpu, [5000], 9);
    const want = Array.from(await x.data()).reduce((a, b) => a + b, 0);
    for (const dev of backends) {
      const got = await T.sum(T.tensor(await x.data(), { device: dev })).item();
      expect(Math.abs(got - want)).toBeLessThan(1e-3);
    }
  });

  it('sum of a zero-size axis is 0; max of one is an error', async () => {
    expect(await T.sum(T.zeros([3, 0], { device: cpu }), 1).toArray()).toEqual([0, 0, 0]);
    expect(() => T.max(T.zeros([3, 0], { device: cpu }), 1)).toThrow(
      /cannot reduce over an empty dimension/,
    );
  });

  it('rejects an out-of-range axis', () => {
    expect(() => T.sum(T.zeros([2, 2], { device: cpu }), 2)).toThrow(
      /axis 2 is out of range for a tensor of rank 2/,
    );
  });
});

describe.each(all)('NaN and ±inf, as PyTorch ($info.backend)', (dev) => {
  it('max and min propagate NaN and reach ±inf', async () => {
    const rows = T.tensor(fixture('rows'), { device: dev, shape: [3, 4] });
    expect(Array.from(await T.max(rows, 1).data())).toEqual(fixture('rowsMax'));
    expect(Array.from(await T.min(rows, 1).data())).toEqual(fixture('rowsMin'));
    // Over a leading axis too (columns; a strided read and another row plan).
    const column = T.tensor([Number.NaN, 1, -2], { device: dev, shape: [3, 1] });
    expect(Array.from(await T.max(column, 0).data())).toEqual([Number.NaN]);
  });
});
