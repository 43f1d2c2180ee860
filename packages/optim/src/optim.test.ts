import { readFileSync } from 'node:fs';
import {
  AdamW,
  clipGradNorm,
  Lion,
  Muon,
  newtonSchulz,
  type Optimizer,
  qkClip,
  SGD,
  warmupCosine,
  warmupStableDecay,
} from '@tessera/optim';
import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

// Trajectories from PyTorch 1.13 (fixtures/make_fixtures.py): torch.optim's SGD and AdamW,
// and Lion and Muon written there independently from their papers.
const fx = JSON.parse(
  readFileSync(new URL('../fixtures/torch-trajectories.json', import.meta.url), 'utf8'),
);
const { all, cpu } = await testDevices();

type Make = (params: Tensor[]) => Optimizer<{ lr: number }>;

async function trajectory(dev: Device, make: Make, steps = 20) {
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

const OPTIMIZERS: [string, Make, number][] = [
  ['sgd', (p) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }), 1e-5],
  ['sgd_plain', (p) => new SGD(p, { lr: 0.1 }), 1e-5],
  [
    'adamw',
    (p) => new AdamW(p, { lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 }),
    1e-5,
  ],
  ['lion', (p) => new Lion(p, { lr: 0.01, betas: [0.9, 0.99], weightDecay: 0.1 }), 1e-5],
  [
    'muon',
    (p) =>
      new Muon(p, {
        lr: 0.02,
        momentum: 0.95,
        nesterov: true,
        weightDecay: 0.01,
        adamw: { lr: 0.01, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.01 },
      }),
    1e-4,
  ],
];

describe.each(all)('trajectories match PyTorch over 20 steps ($info.backend)', (dev) => {
  for (const [name, make, tol] of OPTIMIZERS) {
    it(name, async () => {
      const got = await trajectory(dev, make);
      fx[name].forEach((want: { loss: number; w: number[]; b: number[] }, i: number) => {
        expect(Math.abs(got[i]!.loss - want.loss)).toBeLessThan(tol * 10);
        expect(maxRelError(got[i]!.w, want.w)).toBeLessThan(tol * (i + 1));
        expect(maxRelError(got[i]!.b, want.b)).toBeLessThan(tol * (i + 1));
      });
    });
  }
});

/** Eigenvalues of a small symmetric matrix (cyclic Jacobi), to get singular values as √eig(XXᵀ). */
function symmetricEigenvalues(a: number[][]): number[] {
  const n = a.length;
  const m = a.map((r) => [...r]);
  for (let sweep = 0; sweep < 50; sweep++) {
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(m[p]![q]!) < 1e-12) continue;
        const theta = (m[q]![q]! - m[p]![p]!) / (2 * m[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k]![p]!;
          const mkq = m[k]![q]!;
          m[k]![p] = c * mkp - s * mkq;
          m[k]![q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p]![k]!;
          const mqk = m[q]![k]!;
          m[p]![k] = c * mpk - s * mqk;
          m[q]![k] = s * mpk + c * mqk;
        }
      }
    }
  }
  return m.map((r, i) => r[i]!);
}

describe('Newton–Schulz', () => {
  it.each(all)(
    'matches the Python reference and lands in the singular-value band ($info.backend)',
    async (dev) => {
      const g = T.tensor(fx.newton_schulz.g, { device: dev, shape: [6, 4] });
      const x = newtonSchulz(g);
      expect(x.shape).toEqual([6, 4]);
      expect(maxRelError(await x.data(), fx.newton_schulz.x)).toBeLessThan(1e-4);
      for (const [r, c, seed] of [
        [6, 4, 1],
        [8, 8, 2],
        [5, 12, 3],
      ] as const) {
        const y = newtonSchulz(T.randn([r, c], { device: dev, seed }));
        const small = r <= c ? T.matmul(y, T.transpose(y)) : T.matmul(T.transpose(y), y);
        const sv = symmetricEigenvalues((await small.toArray()) as number[][]).map(Math.sqrt);
        for (const s of sv) {
          expect(s).toBeGreaterThan(0.6);
          expect(s).toBeLessThan(1.25);
        }
      }
    },
  );
});

describe('optimizers in training', () => {
  const makers: [string, (p: Tensor[]) => Optimizer<{ lr: number }>][] = [
    ['SGD', (p) => new SGD(p, { lr: 0.1, momentum: 0.9 })],
    ['AdamW', (p) => new AdamW(p, { lr: 0.01 })],
    ['Lion', (p) => new Lion(p, { lr: 0.003 })],
    ['Muon', (p) => new Muon(p, { lr: 0.02, adamw: { lr: 0.01 } })],
  ];
  for (const [name, make] of makers) {
    it.each(all)(
      `${name} trains a 2-layer MLP on a toy task below 0.05 ($info.backend)`,
      async (dev) => {
        // Regress y = sin(x0) + x1·x2 from 64 fixed points.
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
          if (i % 50 === 49 || i === 299) last = await loss.item();
          loss.dispose();
        }
        expect(last).toBeLessThan(0.05);
      },
    );
  }
});

describe('protocol', () => {
  it.each(all)('fused and unfused AdamW agree ($info.backend)', async (dev) => {
    const a = await trajectory(dev, (p) => new AdamW(p, { lr: 0.05, fused: true }), 5);
    const b = await trajectory(dev, (p) => new AdamW(p, { lr: 0.05, fused: false }), 5);
    for (let i = 0; i < 5; i++) expect(maxRelError(a[i]!.w, b[i]!.w)).toBeLessThan(1e-5);
  });

  it('saved state resumes the same trajectory', async () => {
    const full = await trajectory(cpu, (p) => new AdamW(p, { lr: 0.05 }), 6);
    // Run 3 steps, save, rebuild everything from the saved values, run 3 more.
    const x = T.tensor(fx.data.x, { device: cpu, shape: [8, 5] });
    const y = T.tensor(fx.data.y, { device: cpu, shape: [8, 3] });
    const mk = (w0: ArrayLike<number>, b0: ArrayLike<number>) => [
      T.tensor(w0, { device: cpu, shape: [5, 3], requiresGrad: true }),
      T.tensor(b0, { device: cpu, shape: [3], requiresGrad: true }),
    ];
    const step = (opt: AdamW, [w, b]: Tensor[]) => {
      opt.zeroGrad();
      T.mean(T.square(T.sub(T.add(T.matmul(x, w!), b!), y))).backward();
      opt.step();
    };
    const p1 = mk(fx.data.w0, fx.data.b0);
    const o1 = new AdamW(p1, { lr: 0.05 });
    for (let i = 0; i < 3; i++) step(o1, p1);
    const saved = o1.stateDict();
    const p2 = mk(await p1[0]!.data(), await p1[1]!.data());
    const o2 = new AdamW(p2, { lr: 999 });
    o2.loadStateDict(saved);
    expect(o2.stepCount).toBe(3);
    for (let i = 0; i < 3; i++) step(o2, p2);
    expect(maxRelError(await p2[0]!.data(), full[5]!.w)).toBeLessThan(1e-6);
  });

  it('parameter groups keep their own hyper-parameters', () => {
    const a = T.zeros([2], { device: cpu, requiresGrad: true });
    const b = T.zeros([2], { device: cpu, requiresGrad: true });
    const opt = new AdamW([{ params: [a] }, { params: [b], lr: 0.5, weightDecay: 0 }], { lr: 0.1 });
    expect(opt.groups.map((g) => [g.options.lr, g.options.weightDecay])).toEqual([
      [0.1, 0.01],
      [0.5, 0],
    ]);
    opt.setLR(0.2);
    expect(opt.groups.map((g) => g.options.lr)).toEqual([0.2, 0.2]);
  });

  it('bad hyper-parameters are errors naming the option', () => {
    const p = [T.zeros([1], { device: cpu, requiresGrad: true })];
    expect(() => new AdamW(p, { lr: -1 })).toThrow(/AdamW: lr must be >= 0, got -1/);
    expect(() => new AdamW(p, { lr: 1, betas: [1, 0.9] })).toThrow(
      /betas must be in \[0, 1\), got \[1, 0\.9\]/,
    );
    expect(() => new SGD(p, { lr: 1, nesterov: true })).toThrow(/nesterov needs momentum > 0/);
    expect(() => new Muon(p, { lr: 1, scale: 'x' as never })).toThrow(
      /scale must be 'spectral' or 'rms'/,
    );
  });

  it('gradient accumulation over two half batches equals one full batch', async () => {
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

describe('schedules, clipping, QK-clip', () => {
  it('warmup + cosine and warmup-stable-decay give the textbook values', () => {
    const cos = warmupCosine({ lr: 1, warmup: 10, total: 110, minLr: 0.1 });
    expect(cos(0)).toBeCloseTo(0.1);
    expect(cos(9)).toBeCloseTo(1);
    expect(cos(60)).toBeCloseTo(0.55);
    expect(cos(110)).toBe(0.1);
    const wsd = warmupStableDecay({ lr: 1, warmup: 10, total: 100, decayFraction: 0.2 });
    expect(wsd(50)).toBe(1);
    expect(wsd(79)).toBe(1);
    expect(wsd(99)).toBeCloseTo(0);
    expect(() => warmupCosine({ lr: 1, warmup: 20, total: 10 })).toThrow(
      /warmup \(20\) exceeds total \(10\)/,
    );
  });

  it.each(all)(
    'clipGradNorm scales the global norm down to maxNorm ($info.backend)',
    async (dev) => {
      const a = T.zeros([2], { device: dev, requiresGrad: true });
      const b = T.zeros([1], { device: dev, requiresGrad: true });
      a.grad = T.tensor([3, 0], { device: dev });
      b.grad = T.tensor([4], { device: dev });
      const norm = clipGradNorm([a, b], 1);
      expect(await norm.item()).toBeCloseTo(5, 5);
      expect(Array.from(await a.grad.data()).map((v) => Number(v.toFixed(5)))).toEqual([0.6, 0]);
      expect(await b.grad.item()).toBeCloseTo(0.8, 5);
      expect(await clipGradNorm([a, b], 10).item()).toBeCloseTo(1, 5);
      expect(await b.grad.item()).toBeCloseTo(0.8, 5);
      // More parameters than one kernel binds, an f16 gradient among them: Σ sizes · 2².
      const many = Array.from({ length: 11 }, (_, i) => {
        const p = T.zeros([i + 1], { device: dev, requiresGrad: true });
        p.grad = T.full([i + 1], 2, { device: dev, dtype: i === 4 ? 'f16' : 'f32' });
        return p;
      });
      expect(await clipGradNorm(many, 1e6).item()).toBeCloseTo(Math.sqrt(66 * 4), 4);
    },
  );

  it.each(all)(
    'QK-clip brings each over-threshold head to at most tau and leaves the rest ($info.backend)',
    async (dev) => {
      const [heads, headDim, d] = [2, 3, 4];
      const wq = T.mul(T.randn([heads * headDim, d], { device: dev, seed: 1 }), 4);
      const wk = T.mul(T.randn([heads * headDim, d], { device: dev, seed: 2 }), 4);
      const x = T.randn([5, d], { device: dev, seed: 3 });
      const maxLogit = async () => {
        const q = (await T.matmul(x, T.transpose(wq)).toArray()) as number[][];
        const k = (await T.matmul(x, T.transpose(wk)).toArray()) as number[][];
        return Array.from({ length: heads }, (_, h) => {
          let best = Number.NEGATIVE_INFINITY;
          for (const qi of q)
            for (const kj of k) {
              let s = 0;
              for (let e = h * headDim; e < (h + 1) * headDim; e++) s += qi[e]! * kj[e]!;
              best = Math.max(best, s);
            }
          return best;
        });
      };
      const before = await maxLogit();
      const tau = (before[0]! + before[1]!) / 2;
      const gamma = qkClip(wq, wk, before, { heads, tau });
      const after = await maxLogit();
      for (let h = 0; h < heads; h++) {
        if (before[h]! > tau) {
          expect(gamma[h]).toBeLessThan(1);
          expect(after[h]!).toBeLessThanOrEqual(tau * (1 + 1e-4));
        } else {
          expect(gamma[h]).toBe(1);
          expect(after[h]).toBeCloseTo(before[h]!, 3);
        }
      }
    },
  );
});
