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

const UNARY: [string, (x: Tensor) => Tensor, (x: number) => number][] = [
  ['neg', T.neg, (x) => -x],
  ['abs', T.abs, Math.abs],
  ['exp', T.exp, Math.exp],
  ['sin', T.sin, Math.sin],
  ['cos', T.cos, Math.cos],
  ['tanh', T.tanh, Math.tanh],
  ['sigmoid', T.sigmoid, (x) => 1 / (1 + Math.exp(-x))],
  ['relu', T.relu, (x) => Math.max(x, 0)],
  ['silu', T.silu, (x) => x / (1 + Math.exp(-x))],
  ['square', T.square, (x) => x * x],
  ['gelu', (x) => T.gelu(x), (x) => 0.5 * x * (1 + T.erf(x / Math.SQRT2))],
  [
    'gelu tanh',
    (x) => T.gelu(x, { approximate: 'tanh' }),
    (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  ],
];

describe('unary ops', () => {
  for (const [name, op, ref] of UNARY) {
    it(`${name}: WebGPU and wasm equal the CPU reference and Math (odd sizes)`, async () => {
      await agree((dev) => op(rnd(dev, [3, 257], 7, 3)), 2e-5);
      const x = rnd(cpu, [5, 9], 3, 3);
      const want = Array.from(await x.data(), ref);
      expect(maxRelError(await op(x).data(), want)).toBeLessThan(1e-5);
    });
  }

  it('log, sqrt and rsqrt on positive inputs', async () => {
    for (const op of [T.log, T.sqrt, T.rsqrt])
      await agree((dev) => op(T.add(T.abs(rnd(dev, [33, 7], 2)), 0.1)), 2e-5);
  });

  it('sin and cos stay accurate for large angles (range-reduced on the GPU)', async () => {
    await agree((dev) => T.sin(T.tensor([1000, -2000.5, 12345.678, 3.5], { device: dev })), 2e-3);
  });

  it('tanh saturates to ±1 without NaN for huge inputs', async () => {
    for (const dev of backends) {
      expect(
        Array.from(await T.tanh(T.tensor([1e30, -1e30, 88.8], { device: dev })).data()),
      ).toEqual([1, -1, 1]);
    }
  });

  it('rejects integer input to a float op, naming both', () => {
    expect(() => T.exp(T.tensor([1, 2], { device: cpu, dtype: 'i32' }))).toThrow(
      /exp: expected a floating-point tensor .* got i32/,
    );
  });
});

describe.each(all)('NaN and ±inf, as PyTorch ($info.backend)', (dev) => {
  it('relu and tanh pass NaN through', async () => {
    const x = T.tensor(fixture('x'), { device: dev });
    expect(Array.from(await T.relu(x).data())).toEqual(fixture('relu'));
    expect(maxRelError(await T.tanh(x).data(), fixture('tanh'))).toBeLessThan(1e-6);
  });
});
