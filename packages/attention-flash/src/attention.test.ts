import { attention, type FlashOptions, naiveAttention } from '@tessera/attention-flash';
import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, gpu, cpu } = await testDevices();
const kernels = ['tiled', 'row'] as const;

interface Case {
  name: string;
  b: number;
  h: number;
  hkv: number;
  sq: number;
  sk: number;
  d: number;
  opts: Omit<FlashOptions, 'keyPaddingMask'> & { pad?: boolean };
}

const CASES: Case[] = [
  { name: 'MHA, odd lengths, d=32', b: 2, h: 3, hkv: 3, sq: 37, sk: 37, d: 32, opts: {} },
  {
    name: 'causal, Sq ≠ Sk (bottom-right), d=64',
    b: 1,
    h: 2,
    hkv: 2,
    sq: 19,
    sk: 45,
    d: 64,
    opts: { causal: true },
  },
  { name: 'GQA 2, causal', b: 1, h: 4, hkv: 2, sq: 33, sk: 33, d: 32, opts: { causal: true } },
  {
    name: 'GQA 4, sliding window 7',
    b: 1,
    h: 8,
    hkv: 2,
    sq: 40,
    sk: 40,
    d: 32,
    opts: { causal: true, window: 7 },
  },
  {
    name: 'MQA (GQA 8), bidirectional window',
    b: 1,
    h: 8,
    hkv: 1,
    sq: 21,
    sk: 29,
    d: 32,
    opts: { window: 5 },
  },
  {
    name: 'key padding with a fully masked row',
    b: 2,
    h: 2,
    hkv: 1,
    sq: 5,
    sk: 9,
    d: 32,
    opts: { causal: true, pad: true },
  },
  {
    name: 'd=128, custom scale',
    b: 1,
    h: 1,
    hkv: 1,
    sq: 17,
    sk: 50,
    d: 128,
    opts: { scale: 0.05 },
  },
];

function inputs(dev: Device, c: Case) {
  const q = T.randn([c.b, c.h, c.sq, c.d], { device: dev, seed: 1 });
  const k = T.randn([c.b, c.hkv, c.sk, c.d], { device: dev, seed: 2 });
  const v = T.randn([c.b, c.hkv, c.sk, c.d], { device: dev, seed: 3 });
  // Batch 0 keeps all keys; batch 1 masks the first 6, so causal rows 0..1 see nothing.
  const mask = c.opts.pad
    ? T.tensor(
        Array.from({ length: c.b * c.sk }, (_, i) => (i >= c.sk && i % c.sk < 6 ? 0 : 1)),
        { device: dev, shape: [c.b, c.sk] },
      )
    : undefined;
  const { pad: _, ...opts } = c.opts;
  return { q, k, v, opts: { ...opts, keyPaddingMask: mask } };
}

describe.each(all)('flash forward equals naive attention ($info.backend)', (dev) => {
  for (const c of CASES) {
    it(c.name, async () => {
      const { q, k, v, opts } = inputs(dev, c);
      const want = await naiveAttention(q, k, v, opts).data();
      for (const kernel of dev.backend === 'webgpu' ? kernels : (['row'] as const)) {
        const got = await attention(q, k, v, { ...opts, kernel }).data();
        expect(maxRelError(got, want)).toBeLessThan(2e-5);
      }
      if (c.opts.pad) {
        // Rows 0 and 1 of batch 1 have no visible key: zeros, not NaN.
        const out = (await attention(q, k, v, opts).toArray()) as number[][][][];
        expect(out[1]![0]![0]!.every((x) => x === 0)).toBe(true);
      }
    });
  }
});

describe.each(all)('flash backward equals the naive gradients ($info.backend)', (dev) => {
  for (const c of CASES.slice(0, 6)) {
    it(c.name, async () => {
      const grads = async (f: typeof attention | typeof naiveAttention) => {
        const { q, k, v, opts } = inputs(dev, c);
        for (const t of [q, k, v]) t.requiresGrad = true;
        const w = T.randn([c.b, c.h, c.sq, c.d], { device: dev, seed: 9 });
        T.sum(T.mul(f(q, k, v, opts), w)).backward();
        return Promise.all([q.grad!.data(), k.grad!.data(), v.grad!.data()]);
      };
      const [got, want] = [await grads(attention), await grads(naiveAttention)];
      for (let i = 0; i < 3; i++) expect(maxRelError(got[i]!, want[i]!)).toBeLessThan(1e-4);
    });
  }
});

describe('gradient check and tiles', () => {
  it('finite differences on a small causal GQA case', async () => {
    const vals = (n: number, s: number) =>
      Array.from({ length: n }, (_, i) => Math.sin(i * 1.3 + s));
    const f = (q: Tensor, k: Tensor, v: Tensor) => attention(q, k, v, { causal: true });
    const err = await gradCheck(
      cpu,
      f,
      [vals(2 * 3 * 4, 1), vals(3 * 4, 2), vals(3 * 4, 3)],
      [
        [1, 2, 3, 4],
        [1, 1, 3, 4],
        [1, 1, 3, 4],
      ],
    );
    expect(err).toBeLessThan(2e-2);
  });

  it('results do not depend on the tiling (sequence lengths around the 32-row/32-key tiles)', async () => {
    const dev = gpu ?? cpu;
    for (const s of [31, 32, 33, 64, 65]) {
      const q = T.randn([1, 1, s, 32], { device: dev, seed: s });
      const k = T.randn([1, 1, s, 32], { device: dev, seed: s + 1 });
      const want = await naiveAttention(q, k, k, { causal: true }).data();
      for (const kernel of kernels)
        expect(
          maxRelError(await attention(q, k, k, { causal: true, kernel }).data(), want),
        ).toBeLessThan(2e-5);
    }
  });

  it('f16 inputs accumulate in f32', async () => {
    const dev = gpu ?? cpu;
    const [q, k, v] = [1, 2, 3].map((s) => T.randn([1, 2, 24, 32], { device: dev, seed: s }));
    const want = await naiveAttention(q!, k!, v!).data();
    const half = (t: Tensor) => T.cast(t, 'f16');
    const got = await T.cast(attention(half(q!), half(k!), half(v!)), 'f32').data();
    expect(maxRelError(got, want)).toBeLessThan(5e-3);
  });

  it('names bad shapes and options', () => {
    const q = T.zeros([1, 3, 4, 8], { device: cpu });
    const k = T.zeros([1, 2, 4, 8], { device: cpu });
    expect(() => attention(q, k, k)).toThrow(/kv heads \(2\) must divide query heads \(3\)/);
    expect(() => attention(T.zeros([4, 8], { device: cpu }), k, k)).toThrow(
      /q must be \[batch, heads, seq, headDim\], got \[4, 8\]/,
    );
    expect(() => attention(k, k, k, { window: -1 })).toThrow(
      /window must be a non-negative integer, got -1/,
    );
    expect(() => attention(k, k, k, { keyPaddingMask: T.ones([1, 3], { device: cpu }) })).toThrow(
      /keyPaddingMask must be f32 \[1, 4\]/,
    );
    expect(() => attention(k, k, k, { casual: true } as never)).toThrow(
      /attention: unknown option "casual" \(known options: scale, causal, window, keyPaddingMask, kernel, returnLse\)/,
    );
    expect(() => naiveAttention(k, k, k, { kernel: 'row' } as never)).toThrow(
      /naiveAttention: unknown option "kernel"/,
    );
  });
});

describe('autograd keeps what backward needs', () => {
  it('the log-sum-exp the caller never sees survives garbage collection until backward', async () => {
    const dev = gpu ?? cpu;
    const [q, k, v] = [1, 2, 3].map((s) =>
      T.randn([1, 2, 40, 32], { device: dev, seed: s, requiresGrad: true }),
    );
    const out = attention(q!, k!, v!, { causal: true });
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc).toBeTypeOf('function');
    gc!();
    await new Promise((r) => setTimeout(r, 50)); // let FinalizationRegistry callbacks run
    gc!();
    await new Promise((r) => setTimeout(r, 50));
    T.sum(out).backward();
    expect(Array.from(await q!.grad!.data()).every(Number.isFinite)).toBe(true);
  });
});
