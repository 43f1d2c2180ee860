import { MLP, SwiGLU } from '@tessera/nn';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { type FeedForwardSpec, feedForward } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';

const { cpu } = await testDevices();
const spec: FeedForwardSpec = {
  dModel: 8,
  hidden: 16,
  layer: 0,
  std: 0.02,
  projStd: 0.01,
  seed: 1,
  device: cpu,
};

describe('feedForward', () => {
  it('builds SwiGLU and the GELU MLP with their Hugging Face names, or what a function builds', () => {
    const swiglu = feedForward('swiglu', spec);
    expect(swiglu).toBeInstanceOf(SwiGLU);
    expect(Object.keys(swiglu.stateDict())).toEqual([
      'gate_proj.weight',
      'up_proj.weight',
      'down_proj.weight',
    ]);
    const mlp = feedForward('gelu', spec);
    expect(mlp).toBeInstanceOf(MLP);
    expect(Object.keys(mlp.stateDict())).toEqual([
      'c_fc.weight',
      'c_fc.bias',
      'c_proj.weight',
      'c_proj.bias',
    ]);
    const mine = new SwiGLU(8, 4, { device: cpu });
    const seen: FeedForwardSpec[] = [];
    expect(
      feedForward((s) => {
        seen.push(s);
        return mine;
      }, spec),
    ).toBe(mine);
    expect(seen).toEqual([spec]);
  });
});
