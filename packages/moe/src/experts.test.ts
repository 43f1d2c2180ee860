import { Experts, groupedMatmul } from '@tessera/moe';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all } = await testDevices();

describe.each(all)('Experts ($info.backend)', (dev) => {
  it('stacks [E, out, in] weights, each matrix with its own initial values', async () => {
    const experts = new Experts(3, 8, 5, { seed: 1, device: dev });
    expect(experts.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ['gate_proj', [3, 5, 8]],
      ['up_proj', [3, 5, 8]],
      ['down_proj', [3, 8, 5]],
    ]);
    expect(
      maxRelError(await experts.gate_proj!.data(), await experts.up_proj.data()),
    ).toBeGreaterThan(0.01);
    // PyTorch's Linear init: uniform(±1/√fan_in).
    const bound = Math.max(...Array.from(await experts.down_proj.data(), Math.abs));
    expect(bound).toBeLessThanOrEqual(1 / Math.sqrt(5));
    const gelu = new Experts(2, 4, 6, { kind: 'gelu', device: dev });
    expect(gelu.namedParameters().map(([n]) => n)).toEqual(['up_proj', 'down_proj']);
  });

  it('runs each expert on its own rows: SwiGLU and GELU networks', async () => {
    const offsets = T.tensor(Int32Array.from([0, 3, 3, 7]), { device: dev });
    const xs = T.randn([9, 4], { seed: 2, device: dev });
    for (const kind of ['swiglu', 'gelu'] as const) {
      const experts = new Experts(3, 4, 6, { kind, seed: 3, device: dev });
      const y = await experts.forward(xs, offsets).data();
      const up = groupedMatmul(xs, experts.up_proj, offsets);
      const h =
        kind === 'swiglu'
          ? T.mul(T.silu(groupedMatmul(xs, experts.gate_proj!, offsets)), up)
          : T.gelu(up);
      const want = await groupedMatmul(h, experts.down_proj, offsets).data();
      expect(maxRelError(y, want)).toBeLessThan(1e-6);
      expect(Array.from(y.subarray(7 * 4))).toEqual(new Array(8).fill(0));
    }
  });

  it('rejects bad sizes and options', () => {
    expect(() => new Experts(0, 4, 4)).toThrow('Experts: count must be a positive integer, got 0');
    expect(() => new Experts(2, 4, 4, { kind: 'relu' as never })).toThrow(
      `Experts: kind must be 'swiglu' or 'gelu', got "relu"`,
    );
    expect(() => new Experts(2, 4, 4, { bias: true } as never)).toThrow(
      'Experts: unknown option "bias"',
    );
  });
});
