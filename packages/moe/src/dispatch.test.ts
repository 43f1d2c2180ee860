import { combineTokens, type DispatchPlan, dispatchTokens, routeTokens } from '@tessera/moe';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

// 7 tokens, top-2 of 4 experts, capacity 3: expert 0 is over capacity, so some choices drop.
const CHOICES = [0, 1, 0, 2, 3, 0, 0, 1, 2, 0, 1, 3, 0, 2];
const [TOKENS, K, EXPERTS, CAPACITY, D] = [7, 2, 4, 3, 5];

function planOn(dev: T.Device): DispatchPlan {
  const indices = T.tensor(Int32Array.from(CHOICES), { shape: [TOKENS, K], device: dev });
  return routeTokens(indices, { experts: EXPERTS, capacity: CAPACITY });
}

describe.each(all)('dispatchTokens and combineTokens ($info.backend)', (dev) => {
  it('move rows as the plan says, and combine with the weights', async () => {
    const plan = planOn(dev);
    const xv = smoothValues(TOKENS * D, 1);
    const wv = smoothValues(TOKENS * K, 2, 0.1, 1);
    const x = T.tensor(xv, { shape: [TOKENS, D], device: dev });
    const w = T.tensor(wv, { shape: [TOKENS, K], device: dev });
    const xs = dispatchTokens(x, plan);
    expect(xs.shape).toEqual([TOKENS * K, D]);
    const rows = await plan.rows.data();
    const slots = await plan.slots.data();
    const expected = Array.from(rows).flatMap((a) =>
      a < 0
        ? new Array<number>(D).fill(0)
        : xv.slice(Math.floor(a / K) * D, (Math.floor(a / K) + 1) * D),
    );
    expect(maxRelError(await xs.data(), expected)).toBeLessThan(1e-7);
    // Combining the dispatched rows gives back Σ over kept choices of w · x.
    const y = await combineTokens(xs, plan, w).data();
    const want = Array.from({ length: TOKENS * D }, (_, i) => {
      const t = Math.floor(i / D);
      let s = 0;
      for (let r = 0; r < K; r++) if (slots[t * K + r]! >= 0) s += wv[t * K + r]! * xv[i]!;
      return s;
    });
    expect(maxRelError(y, want)).toBeLessThan(1e-6);
    expect(Array.from(slots).filter((s) => s < 0).length).toBe(3); // expert 0: 6 choices, 3 kept
  });

  it('gradients of x and the weights match finite differences', async () => {
    const plan = planOn(dev);
    // A different value per permuted row, so that each path from x to y is told apart.
    const scale = T.tensor(smoothValues(TOKENS * K * D, 3), {
      shape: [TOKENS * K, D],
      device: dev,
    });
    const f = (x: T.Tensor, w: T.Tensor) =>
      combineTokens(T.mul(T.square(dispatchTokens(x, plan)), scale), plan, w);
    const err = await gradCheck(
      dev,
      f,
      [smoothValues(TOKENS * D, 4), smoothValues(TOKENS * K, 5)],
      [
        [TOKENS, D],
        [TOKENS, K],
      ],
    );
    expect(err).toBeLessThan(1e-2);
  });

  it('equals the CPU reference, forward and backward', async () => {
    if (dev === cpu) return;
    const run = async (d: T.Device) => {
      const plan = planOn(d);
      const x = T.tensor(smoothValues(TOKENS * D, 6), { shape: [TOKENS, D], device: d });
      const w = T.tensor(smoothValues(TOKENS * K, 7), { shape: [TOKENS, K], device: d });
      x.requiresGrad_();
      w.requiresGrad_();
      const y = combineTokens(T.exp(dispatchTokens(x, plan)), plan, w);
      T.sum(T.mul(y, y)).backward();
      return [await y.data(), await x.grad!.data(), await w.grad!.data()];
    };
    const [gpu, ref] = [await run(dev), await run(cpu)];
    for (let i = 0; i < 3; i++) expect(maxRelError(gpu[i]!, ref[i]!)).toBeLessThan(1e-5);
  });

  it('refuses tensors that do not fit the plan', () => {
    const plan = planOn(dev);
    expect(() => dispatchTokens(T.zeros([6, D], { device: dev }), plan)).toThrow(
      'dispatchTokens: slots [7, 2] and rows [14] do not fit 6 tokens',
    );
    expect(() =>
      combineTokens(T.zeros([13, D], { device: dev }), plan, T.zeros([7, 2], { device: dev })),
    ).toThrow('combineTokens: ys has 13 rows, the plan 14 (tokens × k)');
    expect(() =>
      combineTokens(T.zeros([14, D], { device: dev }), plan, T.zeros([7, 3], { device: dev })),
    ).toThrow('combineTokens: weights must be f32 [7, 2], got f32 [7, 3]');
  });
});
