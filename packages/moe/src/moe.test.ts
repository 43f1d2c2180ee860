import { MoE, naiveMoE } from '@tessera/moe';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { caseOptions, reference, referenceLayer, toTensor } from './test-utils/reference.js';

const { all, cpu } = await testDevices();

/** Forward in training mode, loss = Σ y·cotangent + auxLoss, backward; what came out. */
function trainStep(layer: MoE, x: T.Tensor, cotangent: T.Tensor) {
  const y = layer.forward(x);
  const loss = T.add(T.sum(T.mul(y, cotangent)), layer.auxLoss()!);
  loss.backward();
  return { y, loss };
}

describe.each(all)('MoE ($info.backend)', (dev) => {
  for (const [name, c] of Object.entries(reference)) {
    it(`${name}: output, auxiliary loss and every gradient match the PyTorch reference`, async () => {
      const layer = referenceLayer(c, dev);
      const x = toTensor(c.x, dev).requiresGrad_();
      const { y, loss } = trainStep(layer, x, toTensor(c.cotangent, dev));
      expect(y.shape).toEqual(c.x.shape);
      expect(maxRelError(await y.data(), c.y.data)).toBeLessThan(2e-5);
      expect(await loss.item()).toBeCloseTo(c.loss, 4);
      const { loadBalance, zLoss } = layer.losses()!;
      expect(await loadBalance.item()).toBeCloseTo(c.load_balance, 5);
      expect(await zLoss.item()).toBeCloseTo(c.z_loss, 4);
      expect(maxRelError(await x.grad!.data(), c.grads.x!.data)).toBeLessThan(2e-5);
      const params = layer.stateDict();
      for (const key of Object.keys(c.params))
        expect([key, maxRelError(await params[key]!.grad!.data(), c.grads[key]!.data)]).toEqual([
          key,
          expect.toSatisfy((e: number) => e < 2e-5),
        ]);
    });
  }

  it('equals the loop over experts, forward and backward, with capacity and shared experts', async () => {
    for (const expert of ['swiglu', 'gelu'] as const) {
      const options = {
        dim: 12,
        hidden: 10,
        experts: 6,
        topK: 2,
        capacityFactor: 1,
        sharedExperts: 1,
        expert,
        seed: 7,
        device: dev,
      };
      const fast = new MoE(options);
      const slow = new MoE(options);
      const x = T.randn([3, 9, 12], { seed: 8, device: dev });
      const cot = T.randn([3, 9, 12], { seed: 9, device: dev });
      const y = fast.forward(x);
      T.sum(T.mul(y, cot)).backward();
      const want = await naiveMoE(slow, x);
      T.sum(T.mul(want, cot)).backward();
      expect(maxRelError(await y.data(), await want.data())).toBeLessThan(1e-5);
      const slowParams = slow.stateDict();
      for (const [key, p] of Object.entries(fast.stateDict()))
        expect([
          key,
          maxRelError(await p.grad!.data(), await slowParams[key]!.grad!.data()),
        ]).toEqual([key, expect.toSatisfy((e: number) => e < 1e-4)]);
      // Capacity 1 with skewed routing dropped some choices.
      expect((await fast.readRoutingStats()).dropped).toBeGreaterThan(0);
    }
  });

  it('gives zeros for a token whose choices were all dropped (the residual carries it)', async () => {
    const c = reference.switch!;
    const layer = referenceLayer(c, dev);
    const y = await layer.forward(toTensor(c.x, dev)).data();
    const plan = layer.plan(
      layer.gate.route(T.reshape(toTensor(c.x, dev), [-1, c.config.dim])),
      12,
    );
    const slots = await plan.slots.data();
    const dropped = Array.from(slots).flatMap((s, t) => (s < 0 ? [t] : []));
    expect(dropped.length).toBe(1);
    for (const t of dropped)
      expect(Array.from(y.subarray(t * c.config.dim, (t + 1) * c.config.dim))).toEqual(
        new Array(c.config.dim).fill(0),
      );
  });

  it('counts routing on the device and reads it back on demand', async () => {
    const c = reference.mixtral!;
    const layer = referenceLayer(c, dev);
    layer.forward(toTensor(c.x, dev));
    layer.forward(toTensor(c.x, dev));
    const stats = await layer.readRoutingStats();
    const assignments = 2 * 10 * 2;
    const dropped = 2 * (c.counts.reduce((a, b) => a + b) - c.kept.reduce((a, b) => a + b));
    expect(stats).toEqual({
      forwards: 2,
      tokens: 20,
      tokensPerExpert: c.counts.map((n) => 2 * n),
      dropped,
      droppedShare: dropped / assignments,
      maxLoad: (2 * Math.max(...c.counts)) / (assignments / 4),
      minLoad: (2 * Math.min(...c.counts)) / (assignments / 4),
    });
    expect((await layer.readRoutingStats()).forwards).toBe(0);
    layer.eval();
    layer.forward(toTensor(c.x, dev));
    expect((await layer.readRoutingStats()).forwards).toBe(0);
  });

  it('moves the selection bias by ±γ from the load of the step (DeepSeek-V3)', async () => {
    const c = reference.deepseek!;
    const layer = referenceLayer(c, dev);
    const before = await layer.gate.e_score_correction_bias!.data();
    layer.eval();
    layer.forward(toTensor(c.x, dev)); // eval passes add no load
    layer.updateBias();
    expect(await layer.gate.e_score_correction_bias!.data()).toEqual(before);
    layer.train();
    layer.forward(toTensor(c.x, dev));
    layer.updateBias();
    const after = await layer.gate.e_score_correction_bias!.data();
    expect(maxRelError(after, c.bias_after_update!.data)).toBeLessThan(1e-7);
  });

  it('weights the losses with the defaults: 0.01 and 0.001, no balance loss when aux-free', async () => {
    const c = reference.mixtral!;
    const options = { ...caseOptions(c, dev), loadBalanceCoef: undefined, zLossCoef: undefined };
    const layer = new MoE(options);
    expect(layer.auxLoss()).toBeUndefined();
    layer.forward(toTensor(c.x, dev));
    const { loadBalance, zLoss } = layer.losses()!;
    const want = 0.01 * (await loadBalance.item()) + 0.001 * (await zLoss.item());
    expect(await layer.auxLoss()!.item()).toBeCloseTo(want, 7);
    layer.eval(); // an eval pass has none: a validation loss adds nothing stale
    layer.forward(toTensor(c.x, dev));
    expect([layer.auxLoss(), layer.losses()]).toEqual([undefined, undefined]);
    const auxFree = new MoE({ ...options, biasUpdateRate: 0.001 });
    expect([auxFree.loadBalanceCoef, auxFree.zLossCoef]).toEqual([0, 0.001]);
    expect(Object.keys(auxFree.stateDict())).toContain('gate.e_score_correction_bias');
    expect(Object.keys(layer.stateDict())).not.toContain('gate.e_score_correction_bias');
  });

  it('leaves nothing behind after a training step in tidy', async () => {
    const layer = new MoE({
      dim: 6,
      hidden: 5,
      experts: 4,
      topK: 2,
      capacityFactor: 1,
      sharedExperts: 1,
      seed: 3,
      device: dev,
    });
    const x = T.randn([2, 7, 6], { seed: 4, device: dev });
    const step = () =>
      T.tidy(() => {
        const y = layer.forward(x);
        T.add(T.sum(T.square(y)), layer.auxLoss()!).backward();
        // Gradients outlive tidy (they accumulate, as in PyTorch): the step frees them.
        for (const p of layer.parameters()) {
          p.grad?.dispose();
          p.grad = null;
        }
      });
    // Tensors of earlier tests are freed by garbage collection at any moment: count after it.
    const settledLive = async () => {
      await dev.sync();
      for (let i = 0; i < 2; i++) {
        (globalThis as { gc?: () => void }).gc?.();
        await new Promise((r) => setTimeout(r, 50));
      }
      return dev.memory().liveTensors;
    };
    step();
    const live = await settledLive();
    step();
    step();
    expect(await settledLive()).toBe(live);
  });

  it('frees its parameters and device counters on dispose', () => {
    if (dev !== cpu) return; // the pool keeps freed GPU buffers; live bytes are counted the same
    const before = dev.memory().liveBytes;
    const layer = new MoE({
      dim: 4,
      hidden: 3,
      experts: 3,
      topK: 1,
      sharedExperts: 1,
      biasUpdateRate: 0.1,
      device: dev,
    });
    expect(dev.memory().liveBytes).toBeGreaterThan(before);
    layer.dispose();
    expect(dev.memory().liveBytes).toBe(before);
  });

  it('rejects bad options and inputs', () => {
    const base = { dim: 4, hidden: 3, experts: 3, topK: 1, device: dev };
    expect(() => new MoE({ ...base, capacityFactor: 0 })).toThrow(
      'MoE: capacityFactor must be a positive number, got 0',
    );
    expect(() => new MoE({ ...base, sharedExperts: 1.5 })).toThrow(
      'MoE: sharedExperts must be an integer >= 0, got 1.5',
    );
    expect(() => new MoE({ ...base, zLossCoef: -1 })).toThrow(
      'MoE: zLossCoef must be a finite number >= 0, got -1',
    );
    expect(() => new MoE({ ...base, topk: 2 } as never)).toThrow('MoE: unknown option "topk"');
    expect(() => new MoE({ ...base, expert: 'relu' as never })).toThrow(
      `Experts: kind must be 'swiglu' or 'gelu', got "relu"`,
    );
    expect(() => new MoE(base).forward(T.zeros([2, 5], { device: dev }))).toThrow(
      "MoE: input's last dimension must be dim = 4, got [2, 5]",
    );
  });
});

describe('MoE.activeParameters', () => {
  it('counts the router, the shared experts and k of the E routed experts', () => {
    const [dim, hidden] = [8, 6];
    const perExpert = 3 * hidden * dim; // gate, up and down projections of one SwiGLU expert
    const layer = new MoE({ dim, hidden, experts: 4, topK: 2, sharedExperts: 1, device: cpu });
    expect(layer.numParameters()).toBe(4 * dim + 4 * perExpert + perExpert);
    expect(layer.activeParameters()).toBe(4 * dim + 2 * perExpert + perExpert);
    // GELU experts have two projections; the selection bias is a buffer, not a parameter.
    const gelu = new MoE({ dim, hidden, experts: 4, topK: 1, expert: 'gelu', device: cpu });
    const aux = new MoE({ dim, hidden, experts: 4, topK: 1, biasUpdateRate: 0.1, device: cpu });
    expect(gelu.activeParameters()).toBe(4 * dim + 2 * hidden * dim);
    expect(aux.activeParameters()).toBe(4 * dim + perExpert);
  });
});

describe('MoE with auxiliary-loss-free balancing', () => {
  it('keeps its load sum alive across training steps run inside tidy scopes', async () => {
    const layer = new MoE({
      dim: 8,
      hidden: 6,
      experts: 4,
      topK: 1,
      biasUpdateRate: 0.5,
      device: cpu,
    });
    const x = T.randn([6, 8], { seed: 2, device: cpu });
    const biases: number[][] = [];
    for (let step = 0; step < 2; step++) {
      T.tidy(() => {
        T.mean(layer.forward(x)).backward();
        layer.updateBias();
      });
      biases.push((await layer.gate.e_score_correction_bias!.toArray()) as number[]);
    }
    // 6 tokens over 4 experts: no load equals the mean 1.5, so every bias moves by ±γ each step.
    expect(biases[0]!.map(Math.abs)).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(biases[1]!.every((b) => [1, 0, -1].includes(b))).toBe(true);
  });
});
