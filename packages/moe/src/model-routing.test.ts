import { MoE, readRoutingStats, updateExpertBiases } from '@tessera/moe';
import { Linear, Module } from '@tessera/nn';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all } = await testDevices();

class TwoLayers extends Module {
  layers: Module[];
  head: Linear;
  constructor(dev: T.Device) {
    super();
    const moe = (seed: number, biasUpdateRate?: number) =>
      new MoE({ dim: 4, hidden: 6, experts: 3, topK: 1, biasUpdateRate, seed, device: dev });
    this.layers = [moe(1, 0.5), moe(2)];
    this.head = new Linear(4, 2, { device: dev });
  }
  forward(x: T.Tensor): T.Tensor {
    for (const l of this.layers) x = T.add(x, (l as MoE).forward(x));
    return this.head.forward(x);
  }
}

describe.each(all)('model-wide routing helpers ($info.backend)', (dev) => {
  it("update the biases of aux-free layers and read every layer's statistics by path", async () => {
    const model = new TwoLayers(dev);
    model.forward(T.randn([5, 4], { seed: 3, device: dev }));
    const stats = await readRoutingStats(model);
    expect(Object.keys(stats)).toEqual(['layers.0', 'layers.1']);
    expect(stats['layers.0']!.tokens).toBe(5);
    const first = model.layers[0] as MoE;
    const before = await first.gate.e_score_correction_bias!.toArray();
    expect(updateExpertBiases(model)).toBe(1);
    const after = (await first.gate.e_score_correction_bias!.toArray()) as number[];
    expect(after).not.toEqual(before);
    // Starting from zero, each bias moved by +γ, −γ or not at all.
    expect(after.every((b) => [0.5, 0, -0.5].includes(b))).toBe(true);
  });
});
