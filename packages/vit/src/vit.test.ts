import { AdamW } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { ViT, type ViTConfig } from '@tessera/vit';
import { describe, expect, it } from 'vitest';
import { reference, unpack, weightsOf } from './test-utils/fixtures.js';

const { all, cpu } = await testDevices();

const tiny: ViTConfig = {
  imageSize: 8,
  patchSize: 4,
  channels: 1,
  classes: 3,
  dModel: 16,
  layers: 2,
  heads: 2,
  ffnHidden: 32,
  seed: 1,
};

/**
 * Images [6, 1, 8, 8] of a 2×2 patch grid with two bright patches: side by side (class 0),
 * one above the other (1) or diagonal (2). Every image holds the same patches, only placed
 * differently: positions alone tell the classes apart.
 */
function pairs(device: T.Device): { x: T.Tensor; y: T.Tensor } {
  const bright = [
    [0, 1, 0],
    [2, 3, 0],
    [0, 2, 1],
    [1, 3, 1],
    [0, 3, 2],
    [1, 2, 2],
  ];
  const pixels = new Float32Array(6 * 64);
  bright.forEach(([a, b], i) => {
    for (const q of [a!, b!])
      for (let r = 0; r < 4; r++)
        for (let c = 0; c < 4; c++) pixels[i * 64 + (4 * (q >> 1) + r) * 8 + 4 * (q & 1) + c] = 1;
  });
  return {
    x: T.tensor(pixels, { shape: [6, 1, 8, 8], device }),
    y: T.tensor(Int32Array.from(bright.map((p) => p[2]!)), { device }),
  };
}

describe.each(all)('ViT ($info.backend)', (dev) => {
  it.each(Object.keys(reference))(
    'gives the logits and rollout of the PyTorch reference (%s)',
    async (name) => {
      const c = reference[name]!;
      const vit = new ViT(c.config, dev);
      vit.loadStateDict(weightsOf(c, dev));
      vit.eval();
      const images = unpack(c.images, dev);
      expect(maxRelError(await vit.forward(images).data(), c.logits)).toBeLessThan(1e-4);
      expect(maxRelError(await vit.relevance(images).data(), c.relevance)).toBeLessThan(1e-4);
      vit.dispose();
    },
  );

  it.each(['learned', 'rope2d'] as const)(
    'learns how two bright patches lie, from positions alone (%s)',
    async (positions) => {
      // Large initial weights, so that attention is far from uniform from the start.
      const vit = new ViT({ ...tiny, positions, initStd: 0.5 }, dev);
      const { x, y } = pairs(dev);
      const optimizer = new AdamW(vit.parameters(), { lr: 1e-2 });
      let loss = Number.NaN;
      for (let step = 0; step < 80; step++) {
        const l = T.tidy(() => {
          optimizer.zeroGrad();
          const l = T.crossEntropy(vit.forward(x), y);
          l.backward();
          optimizer.step();
          return l;
        });
        loss = await l.item();
        l.dispose();
      }
      expect(loss).toBeLessThan(0.05);
      const predicted = await T.argmax(vit.forward(x), -1).data();
      expect([...predicted]).toEqual([...(await y.data())]);
    },
  );

  it('has the gradients of the CPU reference', async () => {
    const grads = async (d: T.Device) => {
      const vit = new ViT({ ...tiny, positions: 'rope2d', pool: 'mean' }, d);
      const { x, y } = pairs(d);
      T.crossEntropy(vit.forward(x), y).backward();
      return Promise.all(vit.parameters().map((p) => p.grad!.data()));
    };
    const [mine, reference] = [await grads(dev), await grads(cpu)];
    for (const [i, g] of mine.entries()) expect(maxRelError(g, reference[i]!)).toBeLessThan(1e-4);
  });
});

describe('ViT modes, sizes and errors', () => {
  it('drops only in training: evaluation equals the same weights without dropout', async () => {
    const noisy = new ViT({ ...tiny, dropout: 0.3, dropPath: 0.3 }, cpu);
    const plain = new ViT(tiny, cpu);
    plain.loadStateDict(noisy.stateDict());
    const { x } = pairs(cpu);
    const want = await plain.forward(x).data();
    expect(maxRelError(await noisy.forward(x).data(), want)).toBeGreaterThan(1e-3);
    noisy.eval();
    expect(maxRelError(await noisy.forward(x).data(), want)).toBe(0);
  });

  it('names its parameters and counts them', () => {
    const vit = new ViT(tiny, cpu);
    const names = Object.keys(vit.stateDict());
    expect(names.slice(0, 4)).toEqual([
      'embeddings.cls_token',
      'embeddings.position_embeddings',
      'embeddings.patch_embeddings.weight',
      'embeddings.patch_embeddings.bias',
    ]);
    expect(names).toContain('model.layers.1.self_attn.q_proj.weight');
    expect(names.at(-1)).toBe('classifier.bias');
    // patches 16·16 + 16, class token 16, positions 5·16, per layer 4·256 attention + 2·(16+16)
    // norms + 16·32 + 32 + 32·16 + 16 MLP, final norm 32, classifier 16·3 + 3.
    const perLayer = 4 * 256 + 64 + 512 + 32 + 512 + 16;
    expect(vit.numParameters()).toBe(272 + 16 + 80 + 2 * perLayer + 32 + 51);
    expect(new ViT({ ...tiny, positions: 'rope2d' }, cpu).stateDict()).not.toHaveProperty(
      'embeddings.position_embeddings',
    );
  });

  it('dispose frees the parameters, gradients and RoPE tables', async () => {
    const before = cpu.memory().liveBytes;
    const vit = new ViT({ ...tiny, positions: 'rope2d' }, cpu);
    const { x, y } = pairs(cpu);
    T.tidy(() => T.crossEntropy(vit.forward(x), y).backward());
    vit.dispose();
    x.dispose();
    y.dispose();
    expect(cpu.memory().liveBytes).toBe(before);
  });

  it('names images of the wrong shape', () => {
    const vit = new ViT(tiny, cpu);
    expect(() => vit.forward(T.zeros([2, 1, 8, 12], { device: cpu }))).toThrow(
      'ViT: images must be [batch, 1, 8, 8], got [2, 1, 8, 12]',
    );
    expect(() => vit.forward(T.zeros([2, 64], { device: cpu }))).toThrow(
      'ViT: images must be [batch, 1, 8, 8], got [2, 64]',
    );
  });
});
