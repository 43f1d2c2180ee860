import { applyLoRA, Embedding, Linear, Module, RMSNorm, Sequential, SwiGLU } from '@tessera/nn';
import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
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

  it('options objects reject unknown keys', async () => {
    const b = new Block(cpu);
    expect(() => b.numParameters({ trainable: true } as never)).toThrow(
      /numParameters: unknown option "trainable" \(known options: trainableOnly\)/,
    );
    expect(() => b.loadStateDict(b.stateDict(), { strict: true, device: cpu } as never)).toThrow(
      /loadStateDict: unknown option "device" \(known options: strict\)/,
    );
    const bytes = await b.save();
    expect(() => b.load(bytes, { stict: false } as never)).toThrow(
      /load: unknown option "stict" \(known options: strict, device, name\)/,
    );
  });

  it('names the file in errors about its bytes', async () => {
    const bytes = await new Block(cpu).save();
    expect(() =>
      new Block(cpu).load(bytes.subarray(0, 20), { name: 'run/model.safetensors' }),
    ).toThrow(/^safetensors "run\/model\.safetensors": /);
  });
});

/** Live memory once the garbage of earlier tests is collected (the tensor finalizers run). */
async function settledMemory(dev: Device) {
  for (let i = 0; i < 2; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 0));
  }
  const { liveTensors, liveBytes } = dev.memory();
  return { liveTensors, liveBytes };
}

describe.each(all)('dispose ($info.backend)', (dev) => {
  it('frees every parameter, gradient and buffer of the tree, LoRA adapters included', async () => {
    const baseline = await settledMemory(dev);
    const model = new Sequential(new Embedding(11, 8, { device: dev, seed: 1 }), new Block(dev));
    applyLoRA(model, { rank: 2, seed: 3, target: (name) => name.startsWith('1.heads') });
    (model as unknown as { table: Tensor }).table = T.ones([5], { device: dev }); // a buffer
    const ids = T.tensor(Int32Array.from([1, 4, 7]), { device: dev });
    T.tidy(() => T.mean(T.square(model.forward(ids))).backward());
    ids.dispose();
    await dev.sync();
    expect(model.parameters().filter((p) => p.grad).length).toBe(4); // the adapters'
    expect(dev.memory().liveTensors).toBeGreaterThan(baseline.liveTensors);
    model.dispose();
    model.dispose(); // idempotent
    const { liveTensors, liveBytes } = dev.memory();
    expect({ liveTensors, liveBytes }).toEqual(baseline);
  });

  it('a disposed module says so when it is used', () => {
    const model = new Sequential(
      new Linear(4, 3, { device: dev, seed: 1 }),
      new RMSNorm(3, { device: dev }),
    );
    const x = T.ones([2, 4], { device: dev });
    const inner = model.layers[1] as RMSNorm;
    inner.dispose(); // a child first: the parent still disposes the rest
    expect(() => inner.forward(T.ones([3], { device: dev }))).toThrow(
      /RMSNorm: this module was disposed \(dispose\(\) freed its parameters and buffers\) and cannot be used/,
    );
    model.dispose();
    expect(() => model.forward(x)).toThrow(/Linear "0": this module was disposed/);
    expect(() => model.parameters()).toThrow(/Sequential: this module was disposed/);
    expect(() => model.stateDict()).toThrow(/this module was disposed/);
    expect(model.namedModules().map(([name]) => name)).toEqual(['', '0', '1']);
  });
});
