import type { Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { golden } from './test-utils/golden.js';

const { gpu, cpu, all, underTest } = await testDevices();

const values = smoothValues;

const UNARY: [string, (x: Tensor) => Tensor, number, number][] = [
  ['neg', T.neg, -2, 2],
  ['abs', T.abs, 0.2, 2],
  ['exp', T.exp, -2, 2],
  ['log', T.log, 0.5, 3],
  ['sqrt', T.sqrt, 0.5, 3],
  ['rsqrt', T.rsqrt, 0.5, 3],
  ['sin', T.sin, -3, 3],
  ['cos', T.cos, -3, 3],
  ['tanh', T.tanh, -2, 2],
  ['sigmoid', T.sigmoid, -3, 3],
  ['relu', T.relu, 0.1, 2],
  ['gelu', (x) => T.gelu(x), -3, 3],
  ['gelu tanh', (x) => T.gelu(x, { approximate: 'tanh' }), -3, 3],
  ['silu', T.silu, -3, 3],
  ['square', T.square, -2, 2],
];

describe('gradients match finite differences (CPU reference)', () => {
  for (const [name, op, lo, hi] of UNARY) {
    it(name, async () => {
      expect(await gradCheck(cpu, op, [values(7, 1, lo, hi)], [[7]])).toBeLessThan(2e-2);
    });
  }

  const BINARY: [string, (a: Tensor, b: Tensor) => Tensor][] = [
    ['add', T.add],
    ['sub', T.sub],
    ['mul', T.mul],
    ['div', T.div],
    ['maximum', T.maximum],
    ['minimum', T.minimum],
    ['pow', T.pow],
  ];
  for (const [name, op] of BINARY) {
    it(`${name} with broadcasting`, async () => {
      const err = await gradCheck(
        cpu,
        op,
        [values(6, 1, 0.5, 2), values(3, 2, 0.5, 2)],
        [[2, 3], [3]],
      );
      expect(err).toBeLessThan(2e-2);
    });
  }

  it('sum, mean, max, min and sumOfSquares over axes', async () => {
    for (const op of [
      (x: Tensor) => T.sum(x, 1),
      (x: Tensor) => T.mean(x, [0, 2], { keepDim: true }),
      (x: Tensor) => T.max(x, 0),
      (x: Tensor) => T.min(x),
      (x: Tensor) => T.sumOfSquares(x, [1, 2]),
    ]) {
      expect(await gradCheck(cpu, op, [values(24, 3)], [[2, 3, 4]])).toBeLessThan(2e-2);
    }
  });

  it('matmul with transposed and batched operands', async () => {
    const f = (a: Tensor, b: Tensor) => T.matmul(T.transpose(a), b);
    expect(
      await gradCheck(
        cpu,
        f,
        [values(12, 1), values(24, 2)],
        [
          [2, 3, 2],
          [2, 3, 4],
        ],
      ),
    ).toBeLessThan(2e-2);
  });

  it('views: permute, slice, expand, reshape', async () => {
    const f = (x: Tensor) =>
      T.mul(
        T.slice(T.permute(x, [1, 0]), 0, 1, 3),
        T.expand(T.reshape(T.slice(x, 1, 0, 1), [1, 2]), [2, 2]),
      );
    expect(await gradCheck(cpu, f, [values(6, 4)], [[2, 3]])).toBeLessThan(2e-2);
  });

  it('where routes the gradient by the mask', async () => {
    const f = (a: Tensor, b: Tensor) => T.where(T.gt(a, 0), T.mul(a, b), b);
    expect(await gradCheck(cpu, f, [values(6, 5), values(6, 6)], [[6], [6]])).toBeLessThan(2e-2);
  });
});

describe('autograd semantics', () => {
  it.each(all)(
    'gradients equal the CPU reference gradients for an MLP ($info.backend)',
    async (dev) => {
      const run = async (d: typeof dev) => {
        const x = T.randn([5, 7], { device: d, seed: 1 });
        const w1 = T.randn([7, 9], { device: d, seed: 2, requiresGrad: true });
        const w2 = T.randn([9, 3], { device: d, seed: 3, requiresGrad: true });
        const loss = T.mean(T.square(T.matmul(T.gelu(T.matmul(x, w1)), w2)));
        loss.backward();
        return [await w1.grad!.data(), await w2.grad!.data(), await loss.data()];
      };
      const [got, want] = [await run(dev), await run(cpu)];
      for (const [i, g] of got.entries()) expect(maxRelError(g, want[i]!)).toBeLessThan(1e-4);
    },
  );

  it('gradients accumulate across backward calls until reset', async () => {
    const x = T.tensor([1, 2, 3], { device: cpu, requiresGrad: true });
    T.sum(T.mul(x, x)).backward();
    T.sum(T.mul(x, 3)).backward();
    expect(await x.grad!.toArray()).toEqual([5, 7, 9]);
    x.grad = null;
    T.sum(x).backward();
    expect(await x.grad!.toArray()).toEqual([1, 1, 1]);
  });

  it('a tensor used twice gets both contributions', async () => {
    const x = T.tensor([2, -1], { device: cpu, requiresGrad: true });
    T.sum(T.add(x, x)).backward();
    expect(await x.grad!.toArray()).toEqual([2, 2]);
  });

  it('noGrad records nothing and detach cuts the graph', () => {
    const x = T.tensor([1, 2], { device: cpu, requiresGrad: true });
    expect(T.noGrad(() => T.mul(x, 2)).requiresGrad).toBe(false);
    expect(T.mul(x.detach(), 2).requiresGrad).toBe(false);
    expect(() => T.sum(x.detach()).backward()).toThrow(/does not require grad/);
  });

  it('valueAndGrad returns gradients without touching .grad', async () => {
    const x = T.tensor([1, 2, 3], { device: cpu });
    const { value, grads } = T.valueAndGrad((a: Tensor) => T.sum(T.square(a)))(x);
    expect(await value.item()).toBe(14);
    expect(await grads[0]!.toArray()).toEqual([2, 4, 6]);
    expect(x.grad).toBeNull();
  });

  it('backward of a non-scalar needs a gradient', () => {
    const x = T.tensor([1, 2], { device: cpu, requiresGrad: true });
    expect(() => T.mul(x, 2).backward()).toThrow(
      /gradient must be given for a non-scalar tensor of shape \[2\]/,
    );
  });

  it('a disposed tensor says so', () => {
    const x = T.tensor([1, 2], { device: cpu });
    x.dispose();
    expect(() => T.exp(x)).toThrow(/exp: tensor of shape \[2\] \(f32\) was disposed/);
  });
});

describe('memory', () => {
  it.each(all)('tidy frees intermediates and keeps the result ($info.backend)', (dev) => {
    const before = dev.memory().liveTensors;
    const y = T.tidy(() => T.sum(T.exp(T.mul(T.ones([100], { device: dev }), 2))));
    expect(dev.memory().liveTensors).toBe(before + 1);
    y.dispose();
    expect(dev.memory().liveTensors).toBe(before);
  });

  it.each(underTest.length > 0 ? underTest : [cpu])(
    'a training step allocates no new buffers or pipelines after the first ($info.backend)',
    async (dev) => {
      const w1 = T.randn([16, 32], { device: dev, seed: 1, requiresGrad: true });
      const w2 = T.randn([32, 4], { device: dev, seed: 2, requiresGrad: true });
      const x = T.randn([8, 16], { device: dev, seed: 3 });
      const step = async () => {
        const loss = T.tidy(() => {
          const l = T.mean(T.square(T.matmul(T.relu(T.matmul(x, w1)), w2)));
          l.backward();
          for (const w of [w1, w2]) {
            // SGD update written with ops; the optimizer package replaces this with fused kernels.
            const next = T.noGrad(() => T.sub(w, T.mul(w.grad!, 0.01)));
            T.noGrad(() => w.copy_(next));
            w.grad!.dispose();
            w.grad = null;
          }
          return l;
        });
        const value = await loss.item();
        loss.dispose();
        return value;
      };
      const first = await step();
      await step();
      const warm = dev.memory();
      for (let i = 0; i < 5; i++) await step();
      const after = dev.memory();
      expect(after.buffersCreated).toBe(warm.buffersCreated);
      expect(after.pipelinesCompiled).toBe(warm.pipelinesCompiled);
      // No tensor left behind by the steps. The count may fall meanwhile: the garbage collector
      // finalizes tensors earlier tests dropped without dispose(), whenever it runs.
      expect(after.liveTensors).toBeLessThanOrEqual(warm.liveTensors);
      expect(await step()).toBeLessThan(first);
    },
  );
});

describe('in-place updates', () => {
  it.each(all)(
    'add_, sub_, mul_, div_, zero_ change the tensor in place ($info.backend)',
    async (dev) => {
      const w = T.tensor([1, 2, 3], { device: dev, requiresGrad: true });
      const storage = w.storage;
      w.add_(T.tensor([1, 1, 1], { device: dev }))
        .mul_(2)
        .sub_(1)
        .div_(3);
      expect(w.storage).toBe(storage);
      expect(await w.toArray()).toEqual([1, 5 / 3, 7 / 3].map((v) => Math.fround(v)));
      w.zero_();
      expect(await w.toArray()).toEqual([0, 0, 0]);
    },
  );

  it('copy_ refuses a leaf that requires grad outside noGrad', () => {
    const w = T.tensor([1, 2], { device: cpu, requiresGrad: true });
    expect(() => w.copy_(T.tensor([3, 4], { device: cpu }))).toThrow(
      /in-place update of a leaf that requires grad; wrap it in noGrad\(\)/,
    );
  });
});

describe('more gradient checks', () => {
  it('variance, gather along dim 0, scatterAdd, topk values, cast', async () => {
    const idx = T.tensor(Int32Array.from([1, 0, 1, 2, 2, 0]), { device: cpu, shape: [2, 3] });
    const fs: [(x: T.Tensor) => T.Tensor, number[]][] = [
      [(x) => T.variance(x, 1), [2, 3]],
      [(x) => T.gather(x, 0, idx), [3, 3]],
      [(x) => T.scatterAdd([3, 3], 0, idx, x), [2, 3]],
      [(x) => T.topk(x, 2).values, [2, 3]],
      [(x) => T.cast(T.cast(x, 'f32'), 'f32'), [2, 3]],
      [(x) => T.addmm(T.slice(x, 0, 0, 1), T.transpose(x), x, { alpha: 0.7, beta: -1.5 }), [2, 3]],
      [
        (x) => T.addmm(T.reshape(T.slice(x, 0, 0, 1), [3]), T.reshape(x, [3, 2]), x, { beta: 2 }),
        [2, 3],
      ],
    ];
    for (const [f, shape] of fs) {
      const n = shape.reduce((a, b) => a * b, 1);
      expect(await gradCheck(cpu, f, [values(n, 7)], [shape])).toBeLessThan(2e-2);
    }
  });
});

describe('memory limits and peaks', () => {
  it.each(all)('peakBytes tracks the high-water mark until reset ($info.backend)', (dev) => {
    dev.resetPeakMemory();
    const base = dev.memory().peakBytes;
    const big = T.zeros([1 << 16], { device: dev });
    big.dispose();
    expect(dev.memory().peakBytes).toBeGreaterThanOrEqual(base + 4 * (1 << 16));
    dev.resetPeakMemory();
    expect(dev.memory().peakBytes).toBe(dev.memory().liveBytes);
  });

  it('a tensor larger than the storage binding limit is refused with the sizes', () => {
    if (!gpu) return expect(process.env.TESSERA_TEST_BACKENDS).not.toContain('webgpu');
    const limit = gpu.info.limits.maxStorageBufferBindingSize!;
    expect(() => T.zeros([limit / 4 + 1], { device: gpu })).toThrow(
      /needs [\d.]+ MiB, more than this adapter's maxStorageBufferBindingSize/,
    );
  });
});

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
});
