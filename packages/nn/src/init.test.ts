import { kaimingNormal, normalInit, residualStd, uniformInit, xavierUniform } from '@tessera/nn';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { cpu } = await testDevices();

describe('initialisers', () => {
  it('initialisers have the stated scale', async () => {
    const w = Array.from(await xavierUniform([200, 300], { device: cpu, seed: 1 }).data());
    const bound = Math.sqrt(6 / 500);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.95 * bound);
    expect(residualStd(0.02, 8)).toBeCloseTo(0.02 / 4, 12);
  });

  it('kaimingNormal has std √(2 / fanIn)', async () => {
    const w = Array.from(await kaimingNormal([400, 50], { device: cpu, seed: 2 }).data());
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(Math.abs(std / Math.sqrt(2 / 50) - 1)).toBeLessThan(0.03);
  });

  it('options objects reject unknown keys', () => {
    expect(() => normalInit([2], 1, { device: cpu, sed: 1 } as never)).toThrow(
      /normalInit: unknown option "sed" \(known options: device, seed\)/,
    );
    expect(() => uniformInit([2], 1, { std: 1 } as never)).toThrow(
      /uniformInit: unknown option "std"/,
    );
    expect(() => xavierUniform([2, 2], { gain: 1 } as never)).toThrow(
      /xavierUniform: unknown option "gain"/,
    );
    expect(() => residualStd(0.02, 0)).toThrow(/residualStd: layers must be >= 1, got 0/);
  });
});
