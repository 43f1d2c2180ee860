import { applyLoRA, Linear, LoRALinear, Sequential } from '@tessera/nn';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

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

  it('options objects reject unknown keys', () => {
    const lin = () => new Linear(2, 2, { device: cpu });
    expect(() => new LoRALinear(lin(), { rank: 1, r: 2 } as never)).toThrow(
      /LoRA: unknown option "r" \(known options: rank, alpha, dropout, seed\)/,
    );
    expect(() =>
      applyLoRA(new Sequential(lin()), { rank: 1, targets: () => true } as never),
    ).toThrow(
      /applyLoRA: unknown option "targets" \(known options: rank, alpha, dropout, seed, target\)/,
    );
  });
});
