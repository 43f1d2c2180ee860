import {
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  MLP,
  RMSNorm,
  Sequential,
  SwiGLU,
} from '@tessera/nn';
import type { Device } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

describe('layers', () => {
  it.each(all)('Linear is x Wᵀ + b with W [out, in] ($info.backend)', async (dev) => {
    const lin = new Linear(3, 2, {
      device: dev,
      weight: T.tensor(
        [
          [1, 0, 2],
          [0, 1, -1],
        ],
        { device: dev },
      ),
    });
    T.noGrad(() => lin.bias!.copy_(T.tensor([10, 20], { device: dev })));
    expect(await lin.forward(T.tensor([[1, 2, 3]], { device: dev })).toArray()).toEqual([[17, 19]]);
    expect(() => lin.forward(T.zeros([2, 4], { device: dev }))).toThrow(
      /last dimension is 4, expected inFeatures = 3/,
    );
  });

  it('Embedding looks up rows and ties as an output head', async () => {
    const emb = new Embedding(5, 2, {
      device: cpu,
      weight: T.tensor(
        [
          [0, 1],
          [2, 3],
          [4, 5],
          [6, 7],
          [8, 9],
        ],
        { device: cpu },
      ),
    });
    expect(await emb.forward(T.tensor(Int32Array.from([4, 0]), { device: cpu })).toArray()).toEqual(
      [
        [8, 9],
        [0, 1],
      ],
    );
    expect(await emb.attend(T.tensor([[1, 0]], { device: cpu })).toArray()).toEqual([
      [0, 2, 4, 6, 8],
    ]);
    expect(() => emb.forward(T.zeros([2], { device: cpu }))).toThrow(/ids must be i32, got f32/);
  });

  it('MLP, SwiGLU, LayerNorm and RMSNorm agree between WebGPU and the CPU, with gradients', async () => {
    const run = async (dev: Device) => {
      const seq = new Sequential(
        new LayerNorm(8, { device: dev }),
        new MLP(8, 32, { device: dev, seed: 4, activation: 'gelu' }),
        new RMSNorm(8, { device: dev }),
        new SwiGLU(8, 12, { device: dev, seed: 5 }),
      );
      const x = T.randn([5, 8], { device: dev, seed: 6 });
      const loss = T.mean(T.square(seq.forward(x)));
      loss.backward();
      return [
        await loss.data(),
        ...(await Promise.all(seq.parameters().map((p) => p.grad!.data()))),
      ];
    };
    for (const dev of all) {
      const [got, want] = [await run(dev), await run(cpu)];
      for (const [i, g] of got.entries()) expect(maxRelError(g, want[i]!)).toBeLessThan(1e-4);
    }
  });

  it('Dropout is active in training and the identity in eval', async () => {
    const d = new Dropout(0.5);
    const x = T.ones([1000], { device: cpu });
    expect(
      ((await d.forward(x).toArray()) as number[]).filter((v) => v === 0).length,
    ).toBeGreaterThan(400);
    d.eval();
    expect(await d.forward(x).toArray()).toEqual(await x.toArray());
    expect(() => new Dropout(1)).toThrow(/p must be in \[0, 1\), got 1/);
  });

  it('options objects reject unknown keys and bad values, naming them', () => {
    const d = { device: cpu };
    expect(() => new Linear(2, 2, { ...d, bais: false } as never)).toThrow(
      /Linear: unknown option "bais" \(known options: device, seed, bias, weight\)/,
    );
    expect(() => new Embedding(4, 2, { ...d, padding_idx: 0 } as never)).toThrow(
      /Embedding: unknown option "padding_idx" \(known options: device, seed, std, weight\)/,
    );
    expect(() => new LayerNorm(4, { ...d, elementwiseAffine: false } as never)).toThrow(
      /LayerNorm: unknown option "elementwiseAffine" \(known options: eps, affine, bias, device\)/,
    );
    expect(() => new RMSNorm(4, { ...d, epsilon: 1e-5 } as never)).toThrow(
      /RMSNorm: unknown option "epsilon" \(known options: eps, device\)/,
    );
    expect(() => new MLP(4, 8, { ...d, act: 'relu' } as never)).toThrow(
      /MLP: unknown option "act"/,
    );
    expect(() => new MLP(4, 8, { ...d, activation: 'swish' as never })).toThrow(
      /MLP: activation must be one of gelu, gelu_tanh, relu, silu, tanh, got "swish"/,
    );
    expect(() => new SwiGLU(4, 8, { ...d, bias: false } as never)).toThrow(
      /SwiGLU: unknown option "bias" \(known options: device, seed, projStd, std\)/,
    );
    expect(() => new Linear(0, 2, d)).toThrow(
      /Linear: inFeatures must be a positive integer, got 0/,
    );
  });
});
