import { fromHuggingFaceExperts, MoE, toHuggingFaceExperts } from '@tessera/moe';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all } = await testDevices();

describe.each(all)('Hugging Face expert names ($info.backend)', (dev) => {
  it("splits stacked experts into DeepSeek-V3's per-expert keys, and stacks them back", async () => {
    const layer = new MoE({
      dim: 4,
      hidden: 3,
      experts: 2,
      topK: 1,
      sharedExperts: 1,
      seed: 1,
      device: dev,
    });
    const prefixed = Object.fromEntries(
      Object.entries(layer.stateDict()).map(([k, v]) => [`model.layers.0.mlp.${k}`, v]),
    );
    const hf = toHuggingFaceExperts(prefixed);
    expect(Object.keys(hf).sort()).toEqual(
      [
        'gate.weight',
        'experts.0.gate_proj.weight',
        'experts.0.up_proj.weight',
        'experts.0.down_proj.weight',
        'experts.1.gate_proj.weight',
        'experts.1.up_proj.weight',
        'experts.1.down_proj.weight',
        'shared_experts.gate_proj.weight',
        'shared_experts.up_proj.weight',
        'shared_experts.down_proj.weight',
      ]
        .map((k) => `model.layers.0.mlp.${k}`)
        .sort(),
    );
    const down = hf['model.layers.0.mlp.experts.1.down_proj.weight']!;
    expect(down.shape).toEqual([4, 3]);
    expect(down.storage).toBe(layer.experts.down_proj.storage); // a view, no copy
    expect(await down.toArray()).toEqual(
      ((await layer.experts.down_proj.toArray()) as number[][][])[1],
    );

    const other = new MoE({
      dim: 4,
      hidden: 3,
      experts: 2,
      topK: 1,
      sharedExperts: 1,
      seed: 2,
      device: dev,
    });
    const back = fromHuggingFaceExperts(toHuggingFaceExperts(layer.stateDict()));
    other.loadStateDict(back);
    for (const [key, t] of Object.entries(layer.stateDict()))
      expect(await other.stateDict()[key]!.toArray()).toEqual(await t.toArray());
  });

  it('refuses a projection with a missing expert or experts of different shapes', () => {
    const t = (shape: number[]) => T.zeros(shape, { device: dev });
    expect(() =>
      fromHuggingFaceExperts({
        'experts.0.up_proj.weight': t([3, 4]),
        'experts.2.up_proj.weight': t([3, 4]),
      }),
    ).toThrow(
      'fromHuggingFaceExperts: "experts.up_proj" has 2 experts but none numbered 1 (expected 0..1)',
    );
    expect(() =>
      fromHuggingFaceExperts({
        'experts.0.up_proj.weight': t([3, 4]),
        'experts.1.up_proj.weight': t([3, 5]),
      }),
    ).toThrow('fromHuggingFaceExperts: "experts.up_proj" expert 1 is [3, 5], expert 0 [3, 4]');
  });
});
