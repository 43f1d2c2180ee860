import * as T from '@tessera/tensor-webgpu';
import { maxRelError } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { MlpClassifier } from './mlp-classifier.js';

const cpu = await T.createDevice({ backend: 'cpu' });

describe('MlpClassifier', () => {
  it('flattens images through two GELU layers to the classes', async () => {
    const mlp = new MlpClassifier(12, 5, 3, cpu);
    expect(mlp.numParameters()).toBe(12 * 5 + 5 + 5 * 5 + 5 + 5 * 3 + 3);
    const x = T.randn([2, 1, 3, 4], { device: cpu, seed: 1 });
    const layer = (l: { weight: T.Tensor; bias?: T.Tensor }, h: T.Tensor) =>
      T.add(T.matmul(h, T.transpose(l.weight)), l.bias!);
    const h = T.reshape(x, [2, 12]);
    const want = layer(mlp.fc3, T.gelu(layer(mlp.fc2, T.gelu(layer(mlp.fc1, h)))));
    expect(mlp.forward(x).shape).toEqual([2, 3]);
    expect(maxRelError(await mlp.forward(x).data(), await want.data())).toBeLessThan(1e-6);
  });
});
