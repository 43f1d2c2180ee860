// Helpers shared by the optimizer tests: the PyTorch fixtures (fixtures/make_fixtures.py) and
// the loops that replay them.
import { readFileSync } from 'node:fs';
import type { BaseOptions, Optimizer } from '@tessera/optim';
import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError } from '@tessera/tensor-webgpu/testing';
import { expect } from 'vitest';

/** Parameters and the gradients each step gives them (null: no gradient at that step). */
export interface GivenData {
  shapes: number[][];
  init: number[][];
  grads: (number[] | null)[][];
}

/** What the fixture holds for one optimizer replayed on `GivenData`. */
export interface GivenRun {
  data?: GivenData;
  // biome-ignore lint/suspicious/noExplicitAny: options as the fixture wrote them, passed as given
  options: any;
  /** Every parameter's values after each step. */
  params: number[][][];
}

// biome-ignore lint/suspicious/noExplicitAny: the fixture file's JSON, read by key in each test
export const fx: any = JSON.parse(
  readFileSync(new URL('../../fixtures/torch-trajectories.json', import.meta.url), 'utf8'),
);

export type Make = (params: Tensor[]) => Optimizer<BaseOptions>;

/** 20 steps of a linear least-squares fit (fx.data), as make_fixtures.py's `run`. */
export async function trajectory(dev: Device, make: Make, steps = 20) {
  const x = T.tensor(fx.data.x, { device: dev, shape: [8, 5] });
  const y = T.tensor(fx.data.y, { device: dev, shape: [8, 3] });
  const w = T.tensor(fx.data.w0, { device: dev, shape: [5, 3], requiresGrad: true });
  const b = T.tensor(fx.data.b0, { device: dev, shape: [3], requiresGrad: true });
  const opt = make([w, b]);
  const out: { loss: number; w: Float32Array; b: Float32Array }[] = [];
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    const loss = T.mean(T.square(T.sub(T.add(T.matmul(x, w), b), y)));
    loss.backward();
    opt.step();
    out.push({
      loss: await loss.item(),
      w: (await w.data()) as Float32Array,
      b: (await b.data()) as Float32Array,
    });
  }
  return out;
}

/** Checks a `trajectory` against the fixture's, the tolerance growing with the step. */
export function expectTrajectory(
  got: Awaited<ReturnType<typeof trajectory>>,
  want: { loss: number; w: number[]; b: number[] }[],
  tol: number,
): void {
  want.forEach((step, i) => {
    expect(Math.abs(got[i]!.loss - step.loss)).toBeLessThan(tol * 10);
    expect(maxRelError(got[i]!.w, step.w)).toBeLessThan(tol * (i + 1));
    expect(maxRelError(got[i]!.b, step.b)).toBeLessThan(tol * (i + 1));
  });
}

/** The parameters of `GivenData` on a device, with gradients required. */
export function givenParams(dev: Device, data: GivenData): Tensor[] {
  return data.shapes.map((shape, i) =>
    T.tensor(data.init[i]!, { device: dev, shape, requiresGrad: true }),
  );
}

/**
 * Steps `opt` over `params` with the given gradients from step `from` on (null: no gradient
 * at that step); returns each parameter's values and each group's `lastLR` after every step.
 */
export async function replay(
  opt: Optimizer<BaseOptions>,
  params: Tensor[],
  data: GivenData,
  from = 0,
  to = data.grads.length,
) {
  const values: Float32Array[][] = [];
  const lastLR: Record<string, number>[][] = [];
  for (const row of data.grads.slice(from, to)) {
    opt.zeroGrad();
    row.forEach((g, i) => {
      if (g) params[i]!.grad = T.tensor(g, { device: params[i]!.device, shape: params[i]!.shape });
    });
    opt.step();
    values.push((await Promise.all(params.map((p) => p.data()))) as Float32Array[]);
    lastLR.push(opt.groups.map((g) => ({ ...g.lastLR })));
  }
  return { values, lastLR };
}

/** Checks replayed values against the fixture's, step by step. */
export function expectReplay(got: Float32Array[][], want: number[][][], tol: number): void {
  expect(got.length).toBe(want.length);
  for (const [k, step] of want.entries())
    for (const [i, p] of step.entries())
      expect(maxRelError(got[k]![i]!, p), `step ${k + 1}, parameter ${i}`).toBeLessThan(tol);
}

/** Trains a 2-layer MLP on y = sin(x0) + x1·x2 for 300 steps; returns the final loss. */
export async function trainMlp(dev: Device, make: Make): Promise<number> {
  const x = T.randn([64, 3], { device: dev, seed: 1 });
  const xs = (await x.toArray()) as number[][];
  const y = T.tensor(
    xs.map(([a, b, c]) => [Math.sin(a!) + b! * c!]),
    { device: dev },
  );
  const w1 = T.mul(T.randn([3, 32], { device: dev, seed: 2 }), 0.5).requiresGrad_();
  const b1 = T.zeros([32], { device: dev, requiresGrad: true });
  const w2 = T.mul(T.randn([32, 1], { device: dev, seed: 3 }), 0.2).requiresGrad_();
  const opt = make([w1, b1, w2]);
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 300; i++) {
    const loss = T.tidy(() => {
      opt.zeroGrad();
      const l = T.mean(T.square(T.sub(T.matmul(T.tanh(T.add(T.matmul(x, w1), b1)), w2), y)));
      l.backward();
      opt.step();
      return l;
    });
    if (i === 299) last = await loss.item();
    loss.dispose();
  }
  return last;
}
