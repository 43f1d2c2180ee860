import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { cpu, underTest } = await testDevices();
const backends = underTest.length > 0 ? underTest : [cpu];

function rnd(dev: Device, shape: number[], seed: number, scale = 1): Tensor {
  return T.mul(T.randn(shape, { device: dev, seed }), scale);
}

const values = smoothValues;

/** Runs `fn` on each device under test (WebGPU, wasm) and on the CPU reference; they must agree. */
async function agree(fn: (dev: Device) => Tensor, tol = 1e-5): Promise<void> {
  for (const dev of backends) {
    const [got, want] = await Promise.all([fn(dev).data(), fn(cpu).data()]);
    expect(maxRelError(got, want)).toBeLessThanOrEqual(tol);
  }
}

describe('softmax family', () => {
  it('softmax and logSoftmax match the composite definition, on any dim', async () => {
    for (const dim of [-1, 0, 1]) {
      await agree((dev) => T.softmax(rnd(dev, [5, 300, 3], 1, 4), dim));
      await agree((dev) => T.logSoftmax(rnd(dev, [5, 300, 3], 1, 4), dim));
    }
    const x = rnd(cpu, [4, 7], 2, 3);
    const ref = T.div(T.exp(x), T.sum(T.exp(x), 1, { keepDim: true }));
    expect(maxRelError(await T.softmax(x).data(), await ref.data())).toBeLessThan(1e-6);
  });

  it('softmax is stable for huge logits', async () => {
    for (const dev of backends) {
      expect(
        Array.from(await T.softmax(T.tensor([1000, 1000, -1000], { device: dev })).data()),
      ).toEqual([0.5, 0.5, 0]);
    }
  });

  it('logsumexp equals log(sum(exp)) and is stable', async () => {
    const x = T.tensor(
      [
        [1, 2, 3],
        [1000, 1000, 1000],
      ],
      { device: cpu },
    );
    const y = await T.logsumexp(x, 1).data();
    expect(y[0]).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), 5);
    expect(y[1]).toBeCloseTo(1000 + Math.log(3), 3);
  });

  it('gradients match finite differences', async () => {
    for (const f of [
      (x: Tensor) => T.softmax(x),
      (x: Tensor) => T.logSoftmax(x, 0),
      (x: Tensor) => T.logsumexp(x, 1),
    ]) {
      expect(await gradCheck(cpu, f, [values(12, 3)], [[3, 4]])).toBeLessThan(2e-2);
    }
  });
});

describe('layerNorm and rmsNorm', () => {
  it('WebGPU and wasm equal the CPU reference, forward and backward, with and without affine', async () => {
    const cases: ((dev: Device, x: Tensor) => Tensor)[] = [
      (dev, x) => T.layerNorm(x, T.add(rnd(dev, [300], 2), 1), rnd(dev, [300], 3)),
      (_dev, x) => T.layerNorm(x),
      (dev, x) => T.rmsNorm(x, T.add(rnd(dev, [300], 2), 1)),
    ];
    for (const f of cases) {
      const run = async (dev: Device) => {
        const x = T.add(rnd(dev, [5, 300], 1, 2), 3);
        x.requiresGrad = true;
        const y = f(dev, x);
        T.sum(T.mul(y, rnd(dev, [5, 300], 9))).backward();
        return [await y.data(), await x.grad!.data()];
      };
      for (const dev of backends) {
        const [[y1, g1], [y2, g2]] = [await run(dev), await run(cpu)];
        expect(maxRelError(y1!, y2!)).toBeLessThan(1e-4);
        expect(maxRelError(g1!, g2!)).toBeLessThan(1e-4);
      }
    }
  });

  it('layerNorm output has zero mean and unit variance per row', async () => {
    const y = (await T.layerNorm(T.add(rnd(cpu, [2, 1000], 1, 5), 100)).toArray()) as number[][];
    for (const row of y) {
      const mean = row.reduce((a, b) => a + b, 0) / row.length;
      const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
      expect(Math.abs(mean)).toBeLessThan(1e-4);
      expect(Math.abs(v - 1)).toBeLessThan(1e-3);
    }
  });

  it('gradients of input, weight and bias match finite differences', async () => {
    const ln = (x: Tensor, w: Tensor, b: Tensor) => T.layerNorm(x, w, b);
    expect(
      await gradCheck(
        cpu,
        ln,
        [values(12, 1), values(4, 2, 0.5, 1.5), values(4, 3)],
        [[3, 4], [4], [4]],
      ),
    ).toBeLessThan(2e-2);
    const rms = (x: Tensor, w: Tensor) => T.rmsNorm(x, w);
    expect(
      await gradCheck(cpu, rms, [values(12, 4), values(4, 5, 0.5, 1.5)], [[3, 4], [4]]),
    ).toBeLessThan(2e-2);
  });

  it('names the weight shape it expected', () => {
    expect(() =>
      T.layerNorm(T.zeros([2, 4], { device: cpu }), T.ones([3], { device: cpu })),
    ).toThrow(/weight and bias must have shape \[4\], got \[3\]/);
  });
});

describe('swiglu', () => {
  it('equals silu(gate)·up, forward and backward, on both backends', async () => {
    for (const dev of [...backends, cpu]) {
      const gate = rnd(dev, [5, 130], 1, 4).requiresGrad_();
      const up = rnd(dev, [5, 130], 2).requiresGrad_();
      const w = rnd(dev, [5, 130], 3);
      const y = T.swiglu(gate, up);
      T.sum(T.mul(y, w)).backward();
      const [g2, u2] = [gate.detach().requiresGrad_(), up.detach().requiresGrad_()];
      const want = T.mul(T.silu(g2), u2);
      T.sum(T.mul(want, w)).backward();
      expect(maxRelError(await y.data(), await want.data())).toBeLessThan(1e-5);
      expect(maxRelError(await gate.grad!.data(), await g2.grad!.data())).toBeLessThan(1e-5);
      expect(maxRelError(await up.grad!.data(), await u2.grad!.data())).toBeLessThan(1e-5);
    }
    // Strided (transposed) inputs are read in place.
    await agree((dev) => T.swiglu(T.transpose(rnd(dev, [7, 3], 1)), rnd(dev, [3, 7], 2)));
  });

  it('gradients match finite differences; mismatched inputs are refused', async () => {
    expect(
      await gradCheck(
        cpu,
        T.swiglu,
        [values(12, 1, -4, 4), values(12, 2)],
        [
          [3, 4],
          [3, 4],
        ],
      ),
    ).toBeLessThan(2e-2);
    expect(() =>
      T.swiglu(T.zeros([2, 3], { device: cpu }), T.zeros([3, 2], { device: cpu })),
    ).toThrow(/swiglu: gate \[2, 3\] and up \[3, 2\] must have the same shape/);
  });
});

describe('row-kernel plans', () => {
  // Rows map to threads three ways (RowPlan): a thread per row (CPU WebGPU, many rows), a
  // workgroup per row with subgroup reductions, or with the workgroup-memory tree fallback.
  // Each is forced here and compared with the CPU reference.
  const kernels: [string, (dev: Device, rows: number) => Tensor][] = [
    ['softmax', (dev, r) => T.softmax(rnd(dev, [r, 300], 1, 3))],
    ['logSoftmax', (dev, r) => T.logSoftmax(rnd(dev, [r, 300], 1, 3))],
    [
      'crossEntropy',
      (dev, r) =>
        T.crossEntropy(rnd(dev, [r, 300], 1, 3), T.randint(0, 300, [r], { device: dev, seed: 2 }), {
          reduction: 'none',
        }),
    ],
    [
      'layerNorm',
      (dev, r) =>
        T.layerNorm(
          rnd(dev, [r, 300], 1, 3),
          T.ones([300], { device: dev }),
          T.zeros([300], { device: dev }),
        ),
    ],
    ['sum', (dev, r) => T.sum(rnd(dev, [r, 300], 1, 3), 1)],
    ['max', (dev, r) => T.max(rnd(dev, [r, 300], 1, 3), 1)],
    ['topk', (dev, r) => T.topk(rnd(dev, [r, 300], 1, 3), 5).values],
  ];
  for (const [name, f] of kernels) {
    it(`${name}: thread-per-row, subgroup and tree plans agree with the CPU`, async () => {
      for (const dev of backends) {
        const subgroups = dev.info.subgroups;
        try {
          for (const sg of [true, false]) {
            dev.info.subgroups = sg && subgroups;
            for (const rows of [3, 70]) {
              const [got, want] = [await f(dev, rows).data(), await f(cpu, rows).data()];
              expect(maxRelError(got, want)).toBeLessThan(1e-4);
            }
          }
        } finally {
          dev.info.subgroups = subgroups;
        }
      }
    });
  }
});
