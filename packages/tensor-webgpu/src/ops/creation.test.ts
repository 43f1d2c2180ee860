import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { cpu, underTest } = await testDevices();
// Each op runs on WebGPU and on the CPU reference; the two must agree.
const backends = underTest.length > 0 ? underTest : [cpu];

describe('creation and random numbers', () => {
  it('the same seed gives the same numbers on every backend', async () => {
    for (const dev of backends) {
      expect(Array.from(await T.randn([1001], { device: dev, seed: 42 }).data())).toEqual(
        Array.from(await T.randn([1001], { device: cpu, seed: 42 }).data()),
      );
    }
  });

  it('randn has mean ~0 and std ~1; rand lies in [0, 1)', async () => {
    const x = Array.from(await T.randn([20000], { device: cpu, seed: 1 }).data());
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(std - 1)).toBeLessThan(0.03);
    const u = Array.from(await T.rand([5000], { device: cpu, seed: 2 }).data());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
  });

  it('rejects ragged arrays and data that does not fill the shape', () => {
    expect(() => T.tensor([[1, 2], [3]], { device: cpu })).toThrow(/ragged/);
    expect(() => T.tensor([1, 2, 3], { device: cpu, shape: [2, 2] })).toThrow(
      /3 values do not fill shape \[2, 2\]/,
    );
  });

  it('arange and full', async () => {
    expect(await T.arange(2, 11, 3, { device: cpu }).toArray()).toEqual([2, 5, 8]);
    expect(await T.full([2], 7, { device: cpu }).toArray()).toEqual([7, 7]);
  });
});
