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

describe('binary ops and broadcasting', () => {
  const ops: [string, (a: Tensor, b: Tensor) => Tensor][] = [
    ['add', T.add],
    ['sub', T.sub],
    ['mul', T.mul],
    ['div', T.div],
    ['maximum', T.maximum],
    ['minimum', T.minimum],
    ['lt', T.lt],
    ['ge', T.ge],
    ['eq', T.eq],
  ];
  for (const [name, op] of ops) {
    it(`${name}: broadcasts [4,1,33] with [5,1] like NumPy`, async () => {
      await agree((dev) => op(rnd(dev, [4, 1, 33], 1), rnd(dev, [5, 1], 2)));
      const out = op(rnd(cpu, [4, 1, 33], 1), rnd(cpu, [5, 1], 2));
      expect(out.shape).toEqual([4, 5, 33]);
    });
  }

  it('pow follows the sign rules for negative bases', async () => {
    for (const dev of backends) {
      const y = await T.pow(
        T.tensor([-2, -2, 2, 0, 4], { device: dev }),
        T.tensor([3, 2, 0.5, 0, -0.5], { device: dev }),
      ).data();
      expect(Array.from(y).map((v) => Number(v.toFixed(5)))).toEqual([
        -8,
        4,
        Number(Math.SQRT2.toFixed(5)),
        1,
        0.5,
      ]);
      expect(Number.isNaN((await T.pow(T.tensor([-2], { device: dev }), 0.5).data())[0])).toBe(
        true,
      );
    }
  });

  it('where selects with a mask and broadcasts scalars', async () => {
    await agree((dev) => T.where(T.gt(rnd(dev, [6, 7], 1), 0), rnd(dev, [6, 7], 2), -1));
  });

  it('names both shapes when they do not broadcast', () => {
    expect(() => T.add(T.zeros([2, 3], { device: cpu }), T.zeros([4], { device: cpu }))).toThrow(
      /add: shapes \[2, 3\] and \[4\] do not broadcast/,
    );
  });

  it('names both dtypes when they differ', () => {
    expect(() =>
      T.add(T.zeros([2], { device: cpu }), T.zeros([2], { device: cpu, dtype: 'i32' })),
    ).toThrow(/add: dtypes differ \(f32 and i32\)/);
  });

  it('integer arithmetic stays in i32', async () => {
    for (const dev of backends) {
      const y = T.add(T.tensor([1, 2, 3], { device: dev, dtype: 'i32' }), 5);
      expect(y.dtype).toBe('i32');
      expect(await y.toArray()).toEqual([6, 7, 8]);
    }
  });
});

describe.each(all)('NaN and ±inf, as PyTorch ($info.backend)', (dev) => {
  const x = () => T.tensor(fixture('x'), { device: dev });
  const y = () => T.tensor(fixture('y'), { device: dev });
  const read = async (t: Tensor) => Array.from(await t.data());

  it('maximum and minimum propagate NaN', async () => {
    expect(await read(T.maximum(x(), y()))).toEqual(fixture('maximum'));
    expect(await read(T.minimum(x(), y()))).toEqual(fixture('minimum'));
  });

  it('comparisons are false with a NaN operand, ne true', async () => {
    for (const [name, op] of [
      ['eq', T.eq],
      ['ne', T.ne],
      ['lt', T.lt],
      ['le', T.le],
      ['gt', T.gt],
      ['ge', T.ge],
    ] as const)
      expect(await read(op(x(), y())), name).toEqual(fixture(name));
  });

  it('where takes a NaN condition as true', async () => {
    const cond = T.tensor(fixture('cond'), { device: dev });
    expect(await read(T.where(cond, x(), y()))).toEqual(fixture('where'));
  });
});
