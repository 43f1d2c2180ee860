import { readFileSync } from 'node:fs';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

// Values computed by PyTorch 1.13 (fixtures/make_fixtures.py), an implementation independent of ours.
const golden = JSON.parse(
  readFileSync(new URL('../fixtures/torch-golden.json', import.meta.url), 'utf8'),
);
const { all } = await testDevices();

describe.each(all)('agreement with PyTorch ($info.backend)', (dev) => {
  it('MLP forward and gradients', async () => {
    const g = golden.mlp;
    const x = T.tensor(g.x, { device: dev, shape: [4, 5] });
    const w1 = T.tensor(g.w1, { device: dev, shape: [5, 8], requiresGrad: true });
    const b1 = T.tensor(g.b1, { device: dev, shape: [8], requiresGrad: true });
    const w2 = T.tensor(g.w2, { device: dev, shape: [8, 3], requiresGrad: true });
    const y = T.matmul(T.gelu(T.add(T.matmul(x, w1), b1)), w2);
    const loss = T.mean(T.square(y));
    loss.backward();
    expect(maxRelError(await y.data(), g.y)).toBeLessThan(1e-5);
    expect(Math.abs((await loss.item()) - g.loss)).toBeLessThan(1e-5);
    expect(maxRelError(await w1.grad!.data(), g.dw1)).toBeLessThan(1e-5);
    expect(maxRelError(await b1.grad!.data(), g.db1)).toBeLessThan(1e-5);
    expect(maxRelError(await w2.grad!.data(), g.dw2)).toBeLessThan(1e-5);
  });

  it('cross-entropy over a softmax, with ignore_index and label smoothing', async () => {
    const g = golden.crossEntropy;
    const targets = T.tensor(Int32Array.from(g.targets), { device: dev });
    for (const c of g.cases) {
      const logits = T.tensor(g.logits, { device: dev, shape: [6, 7], requiresGrad: true });
      const loss = T.crossEntropy(logits, targets, { labelSmoothing: c.labelSmoothing });
      loss.backward();
      expect(Math.abs((await loss.item()) - c.loss)).toBeLessThan(1e-5);
      expect(maxRelError(await logits.grad!.data(), c.grad)).toBeLessThan(1e-5);
    }
    expect(
      maxRelError(
        await T.softmax(T.tensor(g.logits, { device: dev, shape: [6, 7] })).data(),
        g.softmax,
      ),
    ).toBeLessThan(1e-6);
  });

  it('layer norm forward and input gradient', async () => {
    const g = golden.layerNorm;
    const x = T.tensor(g.x, { device: dev, shape: [3, 6], requiresGrad: true });
    const y = T.layerNorm(x, T.tensor(g.w, { device: dev }), T.tensor(g.b, { device: dev }));
    const weights = Array.from({ length: 18 }, (_, i) => Math.sin(i * 0.37 + 0.9));
    T.sum(T.mul(y, T.tensor(weights, { device: dev, shape: [3, 6] }))).backward();
    expect(maxRelError(await y.data(), g.y)).toBeLessThan(1e-5);
    expect(maxRelError(await x.grad!.data(), g.dx)).toBeLessThan(1e-4);
  });
});
