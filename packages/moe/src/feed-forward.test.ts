import { MoE, moeFeedForward } from '@tessera/moe';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all } = await testDevices();

describe.each(all)('moeFeedForward ($info.backend)', (dev) => {
  it("builds an MoE from a model's feed-forward spec, with the model's width, init and seed", async () => {
    const factory = moeFeedForward({ experts: 4, topK: 2, sharedExperts: 1 });
    const spec = {
      dModel: 8,
      hidden: 12,
      layer: 1,
      std: 0.02,
      projStd: 0.005,
      seed: 5,
      device: dev,
    };
    const layer = factory(spec);
    expect(layer).toBeInstanceOf(MoE);
    expect(layer.experts.up_proj.shape).toEqual([4, 12, 8]);
    expect(layer.shared_experts!.parameters()[0]!.shape).toEqual([12, 8]);
    // The projection into the residual stream uses projStd: its spread is about 4× smaller.
    const spread = async (t: T.Tensor) => Math.sqrt(await T.mean(T.square(t)).item());
    const ratio = (await spread(layer.experts.up_proj)) / (await spread(layer.experts.down_proj));
    expect(ratio).toBeGreaterThan(3);
    expect(ratio).toBeLessThan(5);
    // Same spec, same weights.
    const again = factory(spec);
    expect(await again.gate.weight.toArray()).toEqual(await layer.gate.weight.toArray());
    const y = layer.forward(T.randn([2, 3, 8], { seed: 1, device: dev }));
    expect(y.shape).toEqual([2, 3, 8]);
    expect(layer.auxLoss()!.shape).toEqual([]);
    // Fine-grained experts: a narrower expert than the dense FFN.
    expect(
      moeFeedForward({ experts: 8, topK: 4, hidden: 3 })(spec).experts.down_proj.shape,
    ).toEqual([8, 8, 3]);
  });

  it('reports a bad option when a block is built', () => {
    const factory = moeFeedForward({ experts: 4, topK: 5 });
    expect(() =>
      factory({ dModel: 8, hidden: 12, std: 0.02, projStd: 0.02, seed: 1, device: dev }),
    ).toThrow('TopKRouter: topK must be an integer in [1, experts = 4], got 5');
  });
});
