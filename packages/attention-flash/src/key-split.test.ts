import { attention, type FlashOptions, naiveAttention } from '@tessera/attention-flash';
import type { DeviceInfo, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { autoSplits, checkSplits, MAX_SPLITS } from './key-split.js';
import { type AttentionFn, weightedGradients } from './test-utils/gradients.js';

const { gpu } = await testDevices();
const kernels = ['tiled', 'row', 'lanes'] as const;
/** Each split variant compiles its own pipelines; lavapipe's LLVM takes seconds for each. */
const COMPILING = 300_000;

const info = (backend: DeviceInfo['backend'], software: boolean) =>
  ({ backend, software }) as DeviceInfo;

describe('autoSplits', () => {
  it('splits on a GPU only where the grid is small and the keys are many', () => {
    const gpu = info('webgpu', false);
    // One workgroup against 8192 keys: 256 workgroups wanted, 32 splits of 256 keys allowed.
    expect(autoSplits(8192, 1, gpu)).toBe(32);
    // 128 workgroups: 2 splits reach the 256 wanted.
    expect(autoSplits(8192, 128, gpu)).toBe(2);
    // Enough workgroups already, or too few keys to split.
    expect(autoSplits(8192, 256, gpu)).toBe(1);
    expect(autoSplits(511, 1, gpu)).toBe(1);
    expect(autoSplits(512, 1, gpu)).toBe(2);
    // At most 64 splits.
    expect(autoSplits(1 << 16, 1, gpu)).toBe(MAX_SPLITS);
    // A CPU adapter runs a dispatch's workgroups one after another: never; nor the CPU backends.
    expect(autoSplits(1 << 16, 1, info('webgpu', true))).toBe(1);
    expect(autoSplits(1 << 16, 1, info('wasm', true))).toBe(1);
    expect(autoSplits(1 << 16, 1, info('cpu', true))).toBe(1);
  });

  it('rejects a keySplits that is not auto or an integer 1..64, naming it', () => {
    expect(() => checkSplits('attention', 'keySplits', 'auto')).not.toThrow();
    expect(() => checkSplits('attention', 'keySplits', 7)).not.toThrow();
    for (const bad of [0, 65, 1.5, 'many', null])
      expect(() => checkSplits('attention', 'keySplits', bad)).toThrow(
        /attention: keySplits must be/,
      );
    const q = T.randn([1, 1, 2, 4], { device: gpu ?? undefined, seed: 1 });
    expect(() => attention(q, q, q, { keySplits: 0 })).toThrow(/keySplits must be .* got 0/);
    q.dispose();
  });
});

interface Case {
  name: string;
  shape: [b: number, h: number, hkv: number, sq: number, sk: number, d: number];
  opts: FlashOptions;
  /** Batch 1 masks its first `pad` keys. */
  pad?: number;
}

const CASES: Case[] = [
  { name: 'no mask, 5 rows × 203 keys', shape: [1, 2, 2, 5, 203, 32], opts: {} },
  {
    // Early rows see few keys: most of their splits are empty.
    name: 'causal, Sq ≠ Sk, GQA 2',
    shape: [1, 4, 2, 19, 150, 32],
    opts: { causal: true },
  },
  {
    name: 'key padding: rows of batch 1 that see no key',
    shape: [2, 2, 1, 6, 70, 32],
    opts: { causal: true },
    pad: 66,
  },
  { name: 'sliding window', shape: [1, 2, 2, 40, 40, 32], opts: { causal: true, window: 9 } },
];

function inputs(dev: T.Device, c: Case) {
  const [b, h, hkv, sq, sk, d] = c.shape;
  const q = T.randn([b, h, sq, d], { device: dev, seed: 1 });
  const k = T.randn([b, hkv, sk, d], { device: dev, seed: 2 });
  const v = T.randn([b, hkv, sk, d], { device: dev, seed: 3 });
  const keyPaddingMask = c.pad
    ? T.tensor(
        Array.from({ length: b * sk }, (_, i) => (i >= sk && i % sk < c.pad! ? 0 : 1)),
        { device: dev, shape: [b, sk] },
      )
    : undefined;
  return { q, k, v, opts: { ...c.opts, keyPaddingMask } };
}

/** dQ, dK and dV of Σ f(q, k, v)·w for a case, w fixed. */
function gradients(dev: T.Device, c: Case, f: AttentionFn) {
  const { q, k, v, opts } = inputs(dev, c);
  const [b, h, , sq, , d] = c.shape;
  const w = T.randn([b, h, sq, d], { device: dev, seed: 9 });
  return weightedGradients(f, [q, k, v], opts, w);
}

describe.runIf(gpu)('split-K on WebGPU', () => {
  const dev = gpu!;
  for (const c of CASES) {
    it(
      `equals naive attention, every kernel, 3 and 7 splits: ${c.name}`,
      async () => {
        const { q, k, v, opts } = inputs(dev, c);
        const want = naiveAttention(q, k, v, opts);
        const wantOut = await want.data();
        for (const kernel of kernels) {
          const whole = attention(q, k, v, { ...opts, kernel, keySplits: 1, returnLse: true });
          const lse = await whole.lse.data();
          for (const keySplits of [3, 7]) {
            const got = attention(q, k, v, { ...opts, kernel, keySplits, returnLse: true });
            expect(maxRelError(await got.out.data(), wantOut)).toBeLessThan(2e-5);
            // Rows that see no key keep lse −∞, as without a split.
            const gotLse = await got.lse.data();
            for (let i = 0; i < lse.length; i++) {
              if (lse[i] === Number.NEGATIVE_INFINITY) expect(gotLse[i]).toBe(lse[i]);
              else expect(Math.abs(gotLse[i]! - lse[i]!)).toBeLessThan(1e-4);
            }
          }
        }
        if (c.pad) {
          const out = (await attention(q, k, v, {
            ...opts,
            keySplits: 5,
          }).toArray()) as number[][][][];
          expect(out[1]![0]![0]!.every((x) => x === 0)).toBe(true);
        }
      },
      COMPILING,
    );
  }

  it(
    'packed documents and f16 inputs split too',
    async () => {
      const s = 48;
      const [q, k, v] = [1, 2, 3].map((seed) => T.randn([2, 2, s, 32], { device: dev, seed }));
      const ids = T.tensor(
        Array.from({ length: 2 * s }, (_, i) => (i % s < 20 ? 0 : i % s < 45 ? 1 : -1)),
        { device: dev, shape: [2, s] },
      );
      const opts = { causal: true, documentIds: ids };
      const want = await naiveAttention(q!, k!, v!, opts).data();
      const got = await attention(q!, k!, v!, { ...opts, keySplits: 4 }).data();
      expect(maxRelError(got, want)).toBeLessThan(2e-5);
      const half = (t: Tensor) => T.cast(t, 'f16');
      const wantHalf = await naiveAttention(q!, k!, v!).data();
      const gotHalf = await T.cast(
        attention(half(q!), half(k!), half(v!), { keySplits: 3 }),
        'f32',
      ).data();
      expect(maxRelError(gotHalf, wantHalf)).toBeLessThan(5e-3);
    },
    COMPILING,
  );

  it('a forced keySplits whose partial outputs exceed the storage binding limit is named', () => {
    // Rows enough that 64 splits × 8 heads × rows × 64 × 4 B pass the adapter's limit.
    const limit = dev.info.limits.maxStorageBufferBindingSize!;
    const rows = Math.ceil(limit / (64 * 8 * 64 * 4)) + 8;
    const q = T.zeros([1, 8, rows, 64], { device: dev });
    expect(() => attention(q, q, q, { keySplits: 64 })).toThrow(
      /attention: keySplits 64 needs [\d.]+ MiB of partial outputs.* at most \d+ fit/,
    );
    // 2 splits fit: no error.
    attention(q, q, q, { keySplits: 2 }).dispose();
    q.dispose();
  });

  for (const c of CASES) {
    it(
      `dK/dV split over queries (3 and 7 splits) equal the naive gradients, every kernel: ${c.name}`,
      async () => {
        const want = await gradients(dev, c, naiveAttention);
        for (const kernel of kernels)
          for (const dkvSplits of kernel === 'lanes' ? [3, 7] : [3]) {
            const got = await gradients(dev, c, (q, k, v, o) =>
              attention(q, k, v, { ...o, kernel, dkvSplits }),
            );
            for (let i = 0; i < 3; i++) expect(maxRelError(got[i]!, want[i]!)).toBeLessThan(1e-4);
          }
      },
      COMPILING,
    );
  }

  it(
    'split dK/dV: f16 inputs get f16 gradients; a forced dkvSplits past the binding limit is named',
    async () => {
      const half = (t: Tensor) => T.cast(t, 'f16');
      const [q, k, v] = [1, 2, 3].map((seed) =>
        half(T.randn([1, 2, 40, 32], { device: dev, seed })),
      ) as [Tensor, Tensor, Tensor];
      for (const t of [q, k, v]) t.requiresGrad = true;
      T.sum(attention(q, k, v, { causal: true, dkvSplits: 4 })).backward();
      expect(k.grad!.dtype).toBe('f16');
      const split = await T.cast(k.grad!, 'f32').data();
      for (const t of [q, k, v]) t.grad = null;
      T.sum(attention(q, k, v, { causal: true, dkvSplits: 1 })).backward();
      expect(maxRelError(split, await T.cast(k.grad!, 'f32').data())).toBeLessThan(5e-3);
      const limit = dev.info.limits.maxStorageBufferBindingSize!;
      const keys = Math.ceil(limit / (64 * 8 * 64 * 4)) + 8;
      const big = T.zeros([1, 8, keys, 64], { device: dev });
      big.requiresGrad = true;
      expect(() => attention(big, big, big, { dkvSplits: 64 })).toThrow(
        /attention: dkvSplits 64 needs [\d.]+ MiB of partial outputs.* at most \d+ fit/,
      );
      // Without a backward pass to split, dkvSplits asks for nothing.
      T.noGrad(() => attention(big, big, big, { dkvSplits: 64 }).dispose());
      big.dispose();
    },
    COMPILING,
  );

  it(
    'gradients through a split forward equal the naive gradients',
    async () => {
      const c = CASES[1]!;
      const want = await gradients(dev, c, naiveAttention);
      const got = await gradients(dev, c, (q, k, v, o) =>
        attention(q, k, v, { ...o, keySplits: 6 }),
      );
      for (let i = 0; i < 3; i++) expect(maxRelError(got[i]!, want[i]!)).toBeLessThan(1e-4);
    },
    COMPILING,
  );

  it(
    '`auto` splits one query block against many keys on a GPU, never on a CPU adapter',
    async () => {
      const kernelsOf = async (sq: number, sk: number, heads: number) => {
        const q = T.randn([1, heads, sq, 32], { device: dev, seed: 1 });
        const k = T.randn([1, heads, sk, 32], { device: dev, seed: 2 });
        const profile = await dev.profile(() => {
          attention(q, k, k).dispose();
        });
        return profile.kernels.map((r) => r.name).join();
      };
      const few = await kernelsOf(4, 4096, 1);
      if (dev.info.software) expect(few).not.toMatch(/split|combine/);
      else
        expect(few).toMatch(
          /flash_fwd:tiled:.*:split.*flash_fwd:combine|flash_fwd:combine.*:split/,
        );
      expect(await kernelsOf(4096, 4096, 4)).not.toMatch(/split|combine/);
    },
    COMPILING,
  );
});
