import {
  AdamW,
  type BaseOptions,
  Lion,
  Muon,
  type Optimizer,
  type OptimizerState,
  SGD,
  warmupCosine,
} from '@tessera/optim';
import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { expectReplay, fx, givenParams, replay } from './test-utils/fixtures.js';

const { all, cpu } = await testDevices();

/** The state as an app saves it: tensors through safetensors, the rest through JSON. */
async function roundTrip(state: OptimizerState, dev: Device): Promise<OptimizerState> {
  const { tensors, ...rest } = state;
  const bytes = await T.saveSafetensors(tensors);
  return {
    ...JSON.parse(JSON.stringify(rest)),
    tensors: T.loadSafetensors(bytes, { device: dev }),
  };
}

/** Live memory once the garbage of earlier tests is collected (the tensor finalizers run). */
async function settledMemory(dev: Device) {
  for (let i = 0; i < 2; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 0));
  }
  const { liveTensors, liveBytes } = dev.memory();
  return { liveTensors, liveBytes };
}

describe('learning rates', () => {
  it('groups keep their own hyper-parameters; lastLR shows the rate each group used', () => {
    const a = T.zeros([2], { device: cpu, requiresGrad: true });
    const b = T.zeros([2], { device: cpu, requiresGrad: true });
    const c = T.zeros([2], { device: cpu, requiresGrad: true });
    const schedule = (step: number) => 0.1 * (step + 1);
    const opt = new AdamW(
      [{ params: [a] }, { params: [b], lr: schedule, weightDecay: 0 }, { params: [c] }],
      { lr: 0.5 },
    );
    expect(opt.groups.map((g) => [g.options.lr, g.options.weightDecay])).toEqual([
      [0.5, 0.01],
      [schedule, 0],
      [0.5, 0.01],
    ]);
    expect(opt.groups.map((g) => g.lastLR)).toEqual([{}, {}, {}]);
    for (let k = 0; k < 3; k++) {
      a.grad = T.ones([2], { device: cpu });
      b.grad = T.ones([2], { device: cpu });
      opt.step();
      opt.zeroGrad();
      // c never has a gradient: its group records no rate.
      expect(opt.groups.map((g) => g.lastLR)).toEqual([{ lr: 0.5 }, { lr: schedule(k) }, {}]);
    }
    expect(opt.stepCount).toBe(3);
    expect('setLR' in opt).toBe(false);
  });

  it('a schedule value that is not a finite number >= 0 fails before any parameter moves', async () => {
    const a = T.ones([2], { device: cpu, requiresGrad: true });
    const b = T.ones([2], { device: cpu, requiresGrad: true });
    const opt = new SGD([{ params: [a] }, { params: [b], lr: () => Number.NaN }], { lr: 0.1 });
    a.grad = T.ones([2], { device: cpu });
    b.grad = T.ones([2], { device: cpu });
    expect(() => opt.step()).toThrow(
      /SGD: groups\[1\]\.lr is NaN at step 0, expected a finite number >= 0/,
    );
    expect(Array.from(await a.data())).toEqual([1, 1]);
    expect(opt.stepCount).toBe(0);
  });
});

describe.each(all)('saving and resuming ($info.backend)', (dev) => {
  it('resumes per-parameter steps: parameters that missed steps continue as PyTorch', async () => {
    const data = fx.missed_steps.data;
    const run = fx.missed_steps.adamw;
    const p1 = givenParams(dev, data);
    const o1 = new AdamW(p1, run.options);
    await replay(o1, p1, data, 0, 3);
    const saved = await roundTrip(o1.stateDict(), dev);
    expect(saved).toMatchObject({ format: 2, optimizer: 'AdamW', step: 3, paramSteps: [2, 2, 2] });
    expect(saved.groups).toEqual([{ params: 3 }]);

    const p2 = await Promise.all(
      p1.map(async (p) =>
        T.tensor(await p.data(), { device: dev, shape: p.shape, requiresGrad: true }),
      ),
    );
    const o2 = new AdamW(p2, run.options);
    await o2.loadStateDict(saved);
    const { values } = await replay(o2, p2, data, 3);
    expectReplay(values, run.params.slice(3), 1e-5);
  });

  it('resumes the schedule: the step counter is saved, so the rates continue', async () => {
    const run = fx.schedules.adamw;
    const make = (p: Tensor[]) =>
      new AdamW(p, { ...run.options, lr: warmupCosine(run.warmupCosine) });
    const p1 = givenParams(dev, run.data);
    const o1 = make(p1);
    await replay(o1, p1, run.data, 0, 4);
    const saved = await roundTrip(o1.stateDict(), dev);
    const p2 = await Promise.all(
      p1.map(async (p) =>
        T.tensor(await p.data(), { device: dev, shape: p.shape, requiresGrad: true }),
      ),
    );
    const o2 = make(p2);
    await o2.loadStateDict(saved);
    expect(o2.stepCount).toBe(4);
    const { values, lastLR } = await replay(o2, p2, run.data, 4);
    for (const [k, [g]] of lastLR.entries()) expect(g!.lr).toBeCloseTo(run.lrs[k + 4], 12);
    expectReplay(values, run.params.slice(4), 1e-5);
  });

  it('loads format 1 (one optimizer-wide step) by giving every parameter with state that step', async () => {
    const run = fx.schedules.adamw; // every parameter has a gradient at every step
    const p1 = givenParams(dev, run.data);
    const o1 = new AdamW(p1, { ...run.options, lr: 0.01 });
    await replay(o1, p1, run.data, 0, 4);
    const { tensors, step } = o1.stateDict();
    const v1 = { step, groups: [{ lr: 0.01, weightDecay: 0.1 }], tensors };
    const p2 = await Promise.all(
      p1.map(async (p) =>
        T.tensor(await p.data(), { device: dev, shape: p.shape, requiresGrad: true }),
      ),
    );
    const o2 = new AdamW(p2, { ...run.options, lr: 0.01 });
    await o2.loadStateDict(v1);
    expect(o2.stateDict()).toMatchObject({ format: 2, step: 4, paramSteps: [4, 4, 4] });
    const a = await replay(o1, p1, run.data, 4);
    const b = await replay(o2, p2, run.data, 4);
    for (const [k, step] of a.values.entries())
      for (const [i, p] of step.entries())
        expect(maxRelError(b.values[k]![i]!, p)).toBeLessThan(1e-6);

    // A parameter without saved tensors took no step.
    const partial = {
      step,
      groups: [{}],
      tensors: { '0.exp_avg': tensors['0.exp_avg']!, '0.exp_avg_sq': tensors['0.exp_avg_sq']! },
    };
    const o3 = new AdamW(givenParams(dev, run.data), { lr: 0.01 });
    await o3.loadStateDict(partial);
    expect(o3.stateDict().paramSteps).toEqual([4, 0, 0]);
  });
});

describe('loadStateDict checks what it loads', () => {
  // Two parameters, [3] and [2]; the second misses the first step.
  async function saved() {
    const a = T.zeros([3], { device: cpu, requiresGrad: true });
    const b = T.zeros([2], { device: cpu, requiresGrad: true });
    const opt = new AdamW([a, b], { lr: 0.1 });
    for (const withB of [false, true]) {
      a.grad = T.ones([3], { device: cpu });
      if (withB) b.grad = T.ones([2], { device: cpu });
      opt.step();
      opt.zeroGrad();
    }
    return { opt, state: opt.stateDict() };
  }
  const fresh = () =>
    new AdamW(
      [
        T.zeros([3], { device: cpu, requiresGrad: true }),
        T.zeros([2], { device: cpu, requiresGrad: true }),
      ],
      { lr: 0.1 },
    );
  const nan = T.tensor([1, Number.NaN], { device: cpu });

  const cases: [string, (s: OptimizerState) => unknown, RegExp][] = [
    [
      'an empty object',
      () => ({}),
      /AdamW\.loadStateDict: the state is empty; pass what stateDict\(\) returned/,
    ],
    ['null', () => null, /the state is empty/],
    [
      'another format',
      (s) => ({ ...s, format: 3 }),
      /format is 3, this version reads formats 1 and 2/,
    ],
    [
      'another optimizer',
      (s) => ({ ...s, optimizer: 'Lion' }),
      /optimizer is "Lion", this optimizer is AdamW/,
    ],
    ['a bad step', (s) => ({ ...s, step: -1 }), /step is -1, expected an integer >= 0/],
    [
      'no tensors',
      (s) => ({ ...s, tensors: undefined }),
      /tensors is undefined, expected an object of Tensors/,
    ],
    [
      'another group count',
      (s) => ({ ...s, groups: [] }),
      /groups has 0 parameter groups, this optimizer 1/,
    ],
    [
      'another group layout',
      (s) => ({ ...s, groups: [{ params: 3 }] }),
      /groups\[0\]\.params is 3, this optimizer's group 0 has 2 parameters/,
    ],
    [
      'paramSteps of another length',
      (s) => ({ ...s, paramSteps: [2] }),
      /paramSteps must be an array of 2 step counts, got 1 entries/,
    ],
    [
      'a parameter step above step',
      (s) => ({ ...s, paramSteps: [3, 1] }),
      /paramSteps\[0\] is 3, expected an integer from 0 to step \(2\)/,
    ],
    [
      'a missing tensor',
      (s) => {
        const { '1.exp_avg': _, ...t } = s.tensors;
        return { ...s, tensors: t };
      },
      /tensors\["1\.exp_avg"\] is missing \(parameter 1 took 1 steps/,
    ],
    [
      'all tensors missing',
      (s) => ({ ...s, tensors: {} }),
      /tensors\["0\.exp_avg"\] is missing \(parameter 0 took 2 steps/,
    ],
    [
      'a tensor of the wrong shape',
      (s) => ({ ...s, tensors: { ...s.tensors, '1.exp_avg': T.zeros([3], { device: cpu }) } }),
      /tensors\["1\.exp_avg"\] is \[3\] f32, expected \[2\] f32 \(parameter 1 is \[2\]\)/,
    ],
    [
      'a non-finite value',
      (s) => ({ ...s, tensors: { ...s.tensors, '1.exp_avg_sq': nan } }),
      /tensors\["1\.exp_avg_sq"\] holds NaN at element 1; expected finite values/,
    ],
    [
      'an unknown state name',
      (s) => ({
        ...s,
        tensors: { ...s.tensors, '0.momentum_buffer': T.zeros([3], { device: cpu }) },
      }),
      /tensors\["0\.momentum_buffer"\] is not state of AdamW \(expected exp_avg, exp_avg_sq\)/,
    ],
    [
      'a key that names no parameter',
      (s) => ({ ...s, tensors: { ...s.tensors, '7.exp_avg': T.zeros([3], { device: cpu }) } }),
      /tensors\["7\.exp_avg"\] does not name a parameter/,
    ],
    [
      'a tensor for a parameter that took no step',
      (s) => ({ ...s, paramSteps: [2, 0] }),
      /tensors\["1\.exp_avg"\] is saved for parameter 1, but paramSteps\[1\] is 0/,
    ],
  ];
  for (const [what, edit, message] of cases) {
    it(`rejects ${what}`, async () => {
      const { state } = await saved();
      await expect(fresh().loadStateDict(edit(state) as OptimizerState)).rejects.toThrow(message);
    });
  }

  it('a failed load changes nothing', async () => {
    const { state } = await saved();
    const { opt: target } = await saved();
    const before = await Promise.all(
      Object.values(target.stateDict().tensors).map((t) => t.data()),
    );
    const bad = {
      ...state,
      step: 2,
      paramSteps: [1, 1],
      tensors: { ...state.tensors, '1.exp_avg_sq': nan },
    };
    await expect(target.loadStateDict(bad)).rejects.toThrow(/holds NaN/);
    const after = target.stateDict();
    expect(after).toMatchObject({ step: 2, paramSteps: [2, 1] });
    const values = await Promise.all(Object.values(after.tensors).map((t) => t.data()));
    expect(values.map((v) => Array.from(v))).toEqual(before.map((v) => Array.from(v)));
  });
});

describe('construction', () => {
  it('rejects an empty parameter list and groups without Tensors', () => {
    expect(() => new SGD([], { lr: 1 })).toThrow(
      /SGD: expected a non-empty list of parameters or groups/,
    );
    expect(() => new SGD([{ params: [1, 2] as never }], { lr: 1 })).toThrow(
      /SGD: groups\[0\]\.params: expected an array of Tensors/,
    );
  });
});

describe.each(all)('dispose ($info.backend)', (dev) => {
  const makers: [string, (p: Tensor[]) => Optimizer<BaseOptions>][] = [
    ['SGD', (p) => new SGD(p, { lr: 0.1, momentum: 0.9 })],
    ['AdamW', (p) => new AdamW(p, { lr: 0.1 })],
    ['AdamW unfused', (p) => new AdamW(p, { lr: 0.1, fused: false })],
    ['Lion', (p) => new Lion(p, { lr: 0.1 })],
    ['Muon', (p) => new Muon(p, { lr: 0.1 })],
  ];
  for (const [name, make] of makers) {
    it(`${name}: frees its state, so live memory returns to the baseline`, async () => {
      const params = [
        T.randn([4, 3], { device: dev, seed: 1, requiresGrad: true }),
        T.zeros([3], { device: dev, requiresGrad: true }),
      ];
      const baseline = await settledMemory(dev);
      const opt = make(params);
      for (let k = 0; k < 3; k++) {
        for (const [i, p] of params.entries())
          p.grad = T.randn(p.shape, { device: dev, seed: 10 * k + i });
        opt.step();
        opt.zeroGrad();
      }
      await dev.sync();
      expect(dev.memory().liveTensors).toBeGreaterThan(baseline.liveTensors);
      opt.dispose();
      opt.dispose(); // idempotent
      const { liveTensors, liveBytes } = dev.memory();
      expect({ liveTensors, liveBytes }).toEqual(baseline);
      expect(() => opt.step()).toThrow(
        new RegExp(`${name.split(' ')[0]}\\.step: this optimizer was disposed and cannot be used`),
      );
      expect(() => opt.stateDict()).toThrow(/stateDict: this optimizer was disposed/);
    });
  }
});

describe('gradient accumulation', () => {
  it('two half batches accumulate to the gradient of one full batch', async () => {
    const x = T.tensor(fx.data.x, { device: cpu, shape: [8, 5] });
    const y = T.tensor(fx.data.y, { device: cpu, shape: [8, 3] });
    const w = T.tensor(fx.data.w0, { device: cpu, shape: [5, 3], requiresGrad: true });
    const loss = (xs: Tensor, ys: Tensor, scale: number) =>
      T.mul(T.mean(T.square(T.sub(T.matmul(xs, w), ys))), scale);
    loss(x, y, 1).backward();
    const full = await w.grad!.data();
    w.grad = null;
    for (const half of [0, 4])
      loss(T.slice(x, 0, half, half + 4), T.slice(y, 0, half, half + 4), 0.5).backward();
    expect(maxRelError(await w.grad!.data(), full)).toBeLessThan(1e-6);
  });
});
