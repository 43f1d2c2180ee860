import {
  applyLoRA,
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  LoRALinear,
  MLP,
  Module,
  RMSNorm,
  residualStd,
  Sequential,
  SwiGLU,
  xavierUniform,
} from '@tessera/nn';
import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

class Block extends Module {
  norm: RMSNorm;
  mlp: SwiGLU;
  heads: Linear[];
  constructor(dev: Device) {
    super();
    this.norm = new RMSNorm(8, { device: dev });
    this.mlp = new SwiGLU(8, 16, { device: dev, seed: 1 });
    this.heads = [
      new Linear(8, 3, { device: dev, seed: 2 }),
      new Linear(8, 3, { device: dev, seed: 3, bias: false }),
    ];
  }
  forward(x: Tensor): Tensor {
    const h = this.mlp.forward(this.norm.forward(x));
    return T.add(this.heads[0]!.forward(h), this.heads[1]!.forward(h));
  }
}

describe('Module', () => {
  it('discovers parameters with dotted names in assignment order', () => {
    const names = new Block(cpu).namedParameters().map(([n]) => n);
    expect(names).toEqual([
      'norm.weight',
      'mlp.gate_proj.weight',
      'mlp.up_proj.weight',
      'mlp.down_proj.weight',
      'heads.0.weight',
      'heads.0.bias',
      'heads.1.weight',
    ]);
    expect(new Block(cpu).numParameters()).toBe(8 + 3 * 8 * 16 + 2 * 24 + 3);
    const seq = new Sequential(
      new Linear(2, 2, { device: cpu }),
      new Linear(2, 1, { device: cpu }),
    );
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
  });

  it('train() and eval() reach every submodule', () => {
    const b = new Block(cpu).eval();
    expect(b.namedModules().every(([, m]) => !m.training)).toBe(true);
    b.train();
    expect(b.mlp.gate_proj.training).toBe(true);
  });

  it('loadStateDict is strict and names the offending key', () => {
    const a = new Block(cpu);
    const dict = { ...a.stateDict() };
    delete (dict as Record<string, Tensor>)['norm.weight'];
    expect(() => new Block(cpu).loadStateDict(dict)).toThrow(/missing keys: norm\.weight/);
    expect(() =>
      new Block(cpu).loadStateDict({ ...a.stateDict(), extra: T.zeros([1], { device: cpu }) }),
    ).toThrow(/unexpected keys: extra/);
    const wrong = { ...a.stateDict(), 'heads.0.bias': T.zeros([4], { device: cpu }) };
    expect(() => new Block(cpu).loadStateDict(wrong)).toThrow(
      /"heads\.0\.bias" has shape \[4\] in the state dict but \[3\] in the module/,
    );
    expect(new Block(cpu).loadStateDict(dict, { strict: false }).missing).toEqual(['norm.weight']);
  });

  it.each(all)(
    'save/load through safetensors reproduces the outputs ($info.backend)',
    async (dev) => {
      const a = new Block(dev);
      const x = T.randn([4, 8], { device: dev, seed: 9 });
      const bytes = await a.save({ note: 'test' });
      const b = new Block(dev);
      for (const p of b.parameters()) T.noGrad(() => p.zero_());
      b.load(bytes);
      expect(Array.from(await b.forward(x).data())).toEqual(Array.from(await a.forward(x).data()));
      expect(T.readSafetensorsHeader(bytes).metadata).toEqual({ note: 'test' });
    },
  );
});

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

  it('initialisers have the stated scale', async () => {
    const w = Array.from(await xavierUniform([200, 300], { device: cpu, seed: 1 }).data());
    const bound = Math.sqrt(6 / 500);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.95 * bound);
    expect(residualStd(0.02, 8)).toBeCloseTo(0.02 / 4, 12);
  });
});

describe('LoRA', () => {
  it.each(all)(
    'starts identical to the base, trains only adapters, merges exactly ($info.backend)',
    async (dev) => {
      const model = new Sequential(
        new Linear(6, 6, { device: dev, seed: 1 }),
        new Linear(6, 4, { device: dev, seed: 2 }),
      );
      const x = T.randn([3, 6], { device: dev, seed: 3 });
      const before = await model.forward(x).data();
      const wrapped = applyLoRA(model, { rank: 2, alpha: 4, seed: 7 });
      expect(wrapped).toEqual(['0', '1']);
      expect(Array.from(await model.forward(x).data())).toEqual(Array.from(before));
      const trainable = model
        .namedParameters()
        .filter(([, p]) => p.requiresGrad)
        .map(([n]) => n);
      expect(trainable).toEqual(['0.lora_A', '0.lora_B', '1.lora_A', '1.lora_B']);

      // One SGD step on the adapters so that B is no longer zero.
      T.mean(T.square(model.forward(x))).backward();
      for (const p of model.parameters().filter((q) => q.requiresGrad))
        T.noGrad(() => p.sub_(T.mul(p.grad!, 0.5)));
      const adapted = await model.forward(x).data();
      expect(maxRelError(adapted, before)).toBeGreaterThan(1e-3);
      for (const l of model.layers as LoRALinear[]) l.merge();
      expect(maxRelError(await model.forward(x).data(), adapted)).toBeLessThan(1e-5);
      for (const l of model.layers as LoRALinear[]) l.unmerge();
      expect(maxRelError(await model.forward(x).data(), adapted)).toBeLessThan(1e-5);
      expect(
        maxRelError(
          await (model.layers[0] as LoRALinear).base.forward(x).data(),
          await new Linear(6, 6, { device: dev, seed: 1 }).forward(x).data(),
        ),
      ).toBeLessThan(1e-5);
    },
  );

  it('rejects a bad rank and a target that matches nothing', () => {
    expect(() => new LoRALinear(new Linear(2, 2, { device: cpu }), { rank: 0 })).toThrow(
      /rank must be a positive integer, got 0/,
    );
    expect(() =>
      applyLoRA(new Sequential(new Linear(2, 2, { device: cpu })), {
        rank: 1,
        target: () => false,
      }),
    ).toThrow(/no Linear layer matched/);
  });
});
