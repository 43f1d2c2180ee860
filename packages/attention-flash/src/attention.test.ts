import { attention, type FlashOptions, naiveAttention } from '@tessera/attention-flash';
import type { Device, DeviceInfo, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { naiveIsFaster } from './attention.js';
import { chooseKernel, type FlashParams } from './flash-forward.js';
import { type AttentionFn, weightedGradients } from './test-utils/gradients.js';

const { all, gpu, cpu } = await testDevices();
const kernels = ['tiled', 'row', 'lanes'] as const;
/**
 * Each case compiles its own pipelines for three kernels; the unrolled `lanes` kernels take
 * seconds of LLVM time each on lavapipe (README), more on a shared machine.
 */
const COMPILING = 300_000;

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
    // 3 vec4 slices of 8 lanes: the lanes kernel's partly filled slices.
    name: "the tiny preset's heads: d=12, GQA 2, causal",
    b: 2,
    h: 4,
    hkv: 2,
    sq: 24,
    sk: 24,
    d: 12,
    opts: { causal: true },
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
    it(
      c.name,
      async () => {
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
      },
      COMPILING,
    );
  }
});

describe.each(all)('flash backward equals the naive gradients ($info.backend)', (dev) => {
  // Not d=128: its backward kernels take minutes to compile on a software adapter.
  for (const c of CASES.filter((c) => c.d < 128)) {
    it(
      c.name,
      async () => {
        const grads = (f: AttentionFn) => {
          const { q, k, v, opts } = inputs(dev, c);
          const w = T.randn([c.b, c.h, c.sq, c.d], { device: dev, seed: 9 });
          return weightedGradients(f, [q, k, v], opts, w);
        };
        const want = await grads(naiveAttention);
        for (const kernel of dev.backend === 'webgpu' ? kernels : (['row'] as const)) {
          const got = await grads((q, k, v, o) => attention(q, k, v, { ...o, kernel }));
          for (let i = 0; i < 3; i++) expect(maxRelError(got[i]!, want[i]!)).toBeLessThan(1e-4);
        }
      },
      COMPILING,
    );
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

  it(
    'results do not depend on the tiling (sequence lengths around the 32-row/32-key tiles)',
    async () => {
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
    },
    COMPILING,
  );

  it(
    'f16 inputs accumulate in f32',
    async () => {
      const dev = gpu ?? cpu;
      const [q, k, v] = [1, 2, 3].map((s) => T.randn([1, 2, 24, 32], { device: dev, seed: s }));
      const want = await naiveAttention(q!, k!, v!).data();
      const half = (t: Tensor) => T.cast(t, 'f16');
      const got = await T.cast(attention(half(q!), half(k!), half(v!)), 'f32').data();
      expect(maxRelError(got, want)).toBeLessThan(5e-3);
    },
    COMPILING,
  );

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
      /attention: unknown option "casual" \(known options: scale, causal, window, keyPaddingMask, documentIds, kernel, keySplits, dkvSplits, returnLse\)/,
    );
    expect(() => naiveAttention(k, k, k, { kernel: 'row' } as never)).toThrow(
      /naiveAttention: unknown option "kernel"/,
    );
    expect(() => attention(k, k, k, { kernel: null } as never)).toThrow(
      /attention: kernel must be 'auto', 'tiled', 'row' or 'lanes', got null/,
    );
    expect(() => attention(k, k, k, { keySplits: null } as never)).toThrow(
      /attention: keySplits must be 'auto' or an integer from 1 to 64, got null/,
    );
    expect(() => attention(k, k, k, { keySplits: Number.NaN })).toThrow(/got NaN/);
    expect(() => attention(k, k, k, { returnLse: 'yes' } as never)).toThrow(
      /attention: returnLse must be true or false, got "yes"/,
    );
    expect(() => attention(k, k, k, { causal: 'false' } as never)).toThrow(
      /attention: causal must be true or false, got "false"/,
    );
    const empty = T.zeros([1, 2, 4, 0], { device: cpu });
    expect(() => attention(empty, empty, empty)).toThrow(/headDim must be 1 to 256, got 0/);
    // returnLse: false, or a boolean known only at run time, type-check and behave.
    const plain: Tensor = attention(k, k, k, { returnLse: false });
    expect(plain.shape).toEqual([1, 2, 4, 8]);
    const flag = plain.shape.length === 4;
    const either = attention(k, k, k, { returnLse: flag });
    expect('lse' in either ? either.lse.shape : []).toEqual([1, 2, 4]);
  });
});

describe.each(all)('packed documents (documentIds) ($info.backend)', (dev) => {
  // Row 0 packs three examples [0, 13), [13, 30), [30, 40); row 1 one example of 35 tokens and
  // 5 padding positions (id −1).
  const S = 40;
  const ids = [
    ...Array.from({ length: S }, (_, i) => (i < 13 ? 0 : i < 30 ? 1 : 2)),
    ...Array.from({ length: S }, (_, i) => (i < 35 ? 7 : -1)),
  ];
  const spans: [number, number, number][] = [
    [0, 0, 13],
    [0, 13, 30],
    [0, 30, 40],
    [1, 0, 35],
  ];
  const qkv = () =>
    [1, 2, 3].map((seed, n) =>
      T.randn([2, n === 0 ? 4 : 2, S, 32], { device: dev, seed, requiresGrad: true }),
    ) as [Tensor, Tensor, Tensor];
  const docs = () => T.tensor(ids, { device: dev, shape: [2, S] });
  /** Rows [from, to) of batch b of a [B, H, S, D] array, as a fresh [1, H, to − from, D] tensor. */
  const piece = (
    a: ArrayLike<number>,
    shape: readonly number[],
    b: number,
    from: number,
    to: number,
  ) => {
    const [, H, , D] = shape as [number, number, number, number];
    const out: number[] = [];
    for (let h = 0; h < H; h++)
      for (let i = from; i < to; i++)
        for (let d = 0; d < D; d++) out.push(a[((b * H + h) * S + i) * D + d]!);
    return T.tensor(out, { device: dev, shape: [1, H, to - from, D] });
  };

  for (const causal of [true, false]) {
    it(
      `each example attended alone gives the packed rows (${causal ? 'causal' : 'bidirectional'})`,
      async () => {
        const [q, k, v] = qkv();
        const arrays = await Promise.all([q, k, v].map((t) => t.data()));
        const kernelsHere = dev.backend === 'webgpu' ? kernels : (['row'] as const);
        const packed = [
          await naiveAttention(q, k, v, { causal, documentIds: docs() }).data(),
          ...(await Promise.all(
            kernelsHere.map((kernel) =>
              attention(q, k, v, { causal, documentIds: docs(), kernel }).data(),
            ),
          )),
        ];
        for (const [b, from, to] of spans) {
          const [pq, pk, pv] = [q, k, v].map((t, n) => piece(arrays[n]!, t.shape, b, from, to));
          const alone = await naiveAttention(pq!, pk!, pv!, { causal }).data();
          for (const got of packed) {
            const rows = piece(got, q.shape, b, from, to);
            expect(maxRelError(await rows.data(), alone)).toBeLessThan(2e-5);
          }
        }
        // Padding rows (id −1) see nothing: zeros.
        const tail = await piece(packed[1]!, q.shape, 1, 35, 40).data();
        expect(tail.every((x) => x === 0)).toBe(true);
      },
      COMPILING,
    );
  }

  it(
    'gradients equal the naive block-diagonal ones, with a padding mask too',
    async () => {
      const pad = T.tensor(
        Array.from({ length: 2 * S }, (_, i) => (i === 5 || i === S + 3 ? 0 : 1)),
        { device: dev, shape: [2, S] },
      );
      const grads = (f: AttentionFn) => {
        const w = T.randn([2, 4, S, 32], { device: dev, seed: 9 });
        const opts = { causal: true, documentIds: docs(), keyPaddingMask: pad };
        return weightedGradients(f, qkv(), opts, w);
      };
      const want = await grads(naiveAttention);
      for (const kernel of dev.backend === 'webgpu' ? kernels : (['row'] as const)) {
        const got = await grads((q, k, v, o) => attention(q, k, v, { ...o, kernel }));
        for (let i = 0; i < 3; i++) expect(maxRelError(got[i]!, want[i]!)).toBeLessThan(1e-4);
      }
    },
    COMPILING,
  );
});

describe('packed documents: finite differences and errors', () => {
  it('finite differences through the flash kernels with documentIds', async () => {
    const vals = (n: number, s: number) =>
      Array.from({ length: n }, (_, i) => Math.sin(i * 1.3 + s));
    const documentIds = T.tensor([0, 0, 1, 1, 1], { device: cpu, shape: [1, 5] });
    const f = (q: Tensor, k: Tensor, v: Tensor) =>
      attention(q, k, v, { causal: true, documentIds });
    const shape = [1, 1, 5, 4];
    const err = await gradCheck(
      cpu,
      f,
      [vals(20, 1), vals(20, 2), vals(20, 3)],
      [shape, shape, shape],
    );
    expect(err).toBeLessThan(2e-2);
  });

  it('names a bad documentIds', () => {
    const q = T.zeros([1, 2, 4, 8], { device: cpu });
    expect(() => attention(q, q, q, { documentIds: T.zeros([1, 3], { device: cpu }) })).toThrow(
      /documentIds must be f32 \[1, 4\], got \[1, 3\] f32/,
    );
    const k = T.zeros([1, 2, 6, 8], { device: cpu });
    expect(() =>
      naiveAttention(q, k, k, { documentIds: T.zeros([1, 6], { device: cpu }) }),
    ).toThrow(/documentIds needs self-attention \(Sq = Sk\), got Sq 4 and Sk 6/);
  });
});

describe.runIf(gpu)('the kernel auto picks', () => {
  it(
    'lanes on a CPU adapter with subgroups of 8 (lavapipe), tiled on a GPU; forward and backward',
    async () => {
      const dev = gpu!;
      const [q, k, v] = [1, 2, 3].map((s) =>
        T.randn([1, 2, 24, 32], { device: dev, seed: s, requiresGrad: true }),
      );
      const profile = await dev.profile(async () => {
        T.sum(attention(q!, k!, v!, { causal: true })).backward();
        await q!.grad!.data();
      });
      const lanes = dev.info.software && dev.info.subgroups && (dev.info.subgroupMinSize ?? 0) >= 8;
      const want = !dev.info.software ? /:tiled:/ : lanes ? /:lanes\d+x\d+:/ : /:row:/;
      const flash = profile.kernels.filter((x) => x.name.startsWith('flash_fwd'));
      expect(flash.map((x) => x.name).join()).toMatch(want);
      if (lanes)
        for (const op of ['flash_dq', 'flash_dkv'])
          expect(profile.kernels.find((x) => x.name.startsWith(op))?.name).toMatch(
            /:lanes\d+x\d+:/,
          );
    },
    COMPILING,
  );
});

describe.runIf(gpu)('a headDim that is not a multiple of 4', () => {
  it(
    'tiled and row, forward and backward, equal naive at headDim 13',
    async () => {
      const dev = gpu!;
      const run = async (f: (q: Tensor, k: Tensor, v: Tensor) => Tensor) => {
        const [q, k, v] = [1, 2, 3].map((seed, n) =>
          T.randn([2, n === 0 ? 4 : 2, 21, 13], { device: dev, seed, requiresGrad: true }),
        );
        const w = T.randn([2, 4, 21, 13], { device: dev, seed: 9 });
        const out = f(q!, k!, v!);
        T.sum(T.mul(out, w)).backward();
        return Promise.all([out.data(), ...[q!, k!, v!].map((t) => t.grad!.data())]);
      };
      const want = await run((q, k, v) => naiveAttention(q, k, v, { causal: true }));
      for (const kernel of ['tiled', 'row'] as const) {
        const got = await run((q, k, v) => attention(q, k, v, { causal: true, kernel }));
        for (let i = 0; i < 4; i++) expect(maxRelError(got[i]!, want[i]!)).toBeLessThan(1e-4);
      }
    },
    COMPILING,
  );
});

describe('auto runs the naive path where row would be slower', () => {
  const params = (
    sq: number,
    sk: number,
    headDim: number,
    kernel: FlashParams['kernel'] = 'auto',
    causal = false,
  ) =>
    ({
      batch: 1,
      heads: 4,
      kvHeads: 4,
      sq,
      sk,
      headDim,
      scale: 1,
      causal,
      window: 0,
      hasMask: false,
      documents: false,
      kvCapacity: sk,
      kernel,
    }) as FlashParams;
  const adapter = (o: Partial<DeviceInfo>) =>
    ({
      backend: 'webgpu',
      software: true,
      subgroups: false,
      limits: { maxStorageBufferBindingSize: 2 ** 27 },
      ...o,
    }) as DeviceInfo;

  it('decides by adapter, kernel, headDim, mask, size and whether backward follows', () => {
    const noSubgroups = adapter({});
    const fwd = (p: FlashParams) => naiveIsFaster(p, noSubgroups);
    const train = (p: FlashParams) => naiveIsFaster(p, noSubgroups, true);
    // Without a mask: naive from headDim 64 for a forward pass, from 32 with backward.
    expect(fwd(params(64, 64, 64))).toBe(true);
    expect(fwd(params(1024, 1024, 32))).toBe(false);
    expect(train(params(64, 64, 32))).toBe(true);
    expect(train(params(1024, 1024, 16))).toBe(false);
    // Causal: a forward pass from headDim 128 at any size; with backward from headDim 64 and
    // 128 × 128 positions.
    expect(fwd(params(1024, 1024, 64, 'auto', true))).toBe(false);
    expect(fwd(params(16, 16, 128, 'auto', true))).toBe(true);
    expect(train(params(127, 128, 64, 'auto', true))).toBe(false);
    expect(train(params(128, 128, 64, 'auto', true))).toBe(true);
    expect(train(params(1024, 1024, 32, 'auto', true))).toBe(false);
    // …never where the scores exceed the storage binding limit (4 heads × 4096² × 4 B = 256 MiB).
    expect(fwd(params(4096, 4096, 64))).toBe(false);
    // lanes runs where it fits; a headDim it does not take falls back to row, and so to naive.
    const lavapipe = adapter({ subgroups: true, subgroupMinSize: 8 });
    expect(naiveIsFaster(params(1024, 1024, 64), lavapipe)).toBe(false);
    expect(naiveIsFaster(params(1024, 1024, 66), lavapipe)).toBe(true);
    // A kernel asked for by name, a GPU and the CPU backends keep the flash kernels.
    expect(fwd(params(1024, 1024, 64, 'row'))).toBe(false);
    expect(naiveIsFaster(params(1024, 1024, 64), adapter({ software: false }))).toBe(false);
    expect(naiveIsFaster(params(1024, 1024, 64), adapter({ backend: 'wasm' }))).toBe(false);
  });

  it.runIf(gpu?.info.software)(
    'on lavapipe a headDim lanes cannot take (66) runs naive: same output and gradients as row',
    async () => {
      const dev = gpu!;
      const run = async (kernel: 'auto' | 'row') => {
        const [q, k, v] = [1, 2, 3].map((seed) =>
          T.randn([1, 2, 40, 66], { device: dev, seed, requiresGrad: true }),
        );
        let out: Float32Array | undefined;
        const profile = await dev.profile(async () => {
          const o = attention(q!, k!, v!, { kernel });
          out = (await o.data()) as Float32Array;
          T.sum(o).backward();
          await q!.grad!.data();
        });
        const grads = await Promise.all([q!, k!, v!].map((t) => t.grad!.data()));
        return { out: out!, grads, names: profile.kernels.map((x) => x.name).join() };
      };
      const auto = await run('auto');
      const row = await run('row');
      expect(auto.names).not.toMatch(/flash_/);
      expect(row.names).toMatch(/flash_fwd:row:/);
      expect(maxRelError(auto.out, row.out)).toBeLessThan(2e-5);
      for (let i = 0; i < 3; i++)
        expect(maxRelError(auto.grads[i]!, row.grads[i]!)).toBeLessThan(1e-4);
      // returnLse needs the flash kernel's log-sum-exp: row runs.
      const q = T.randn([1, 2, 40, 66], { device: dev, seed: 1 });
      const lse = await dev.profile(async () => {
        await attention(q, q, q, { returnLse: true }).lse.data();
      });
      expect(lse.kernels.map((x) => x.name).join()).toMatch(/flash_fwd:row:/);
      // A forced dkvSplits in a call without backward changes nothing: still naive.
      const fwdOnly = await dev.profile(async () => {
        await attention(q, q, q, { dkvSplits: 2 }).data();
      });
      expect(fwdOnly.kernels.map((x) => x.name).join()).not.toMatch(/flash_/);
      // A forced keySplits asks for a flash kernel: row runs, split.
      const split = await dev.profile(async () => {
        await attention(q, q, q, { keySplits: 2 }).data();
      });
      expect(split.kernels.map((x) => x.name).join()).toMatch(/flash_fwd:row:.*:split/);
    },
    COMPILING,
  );
});

describe('tiled needs its K/V tiles in workgroup memory', () => {
  const params = (headDim: number, kernel: FlashParams['kernel']) =>
    ({ headDim, kernel }) as FlashParams;
  const gpuInfo = {
    software: false,
    adapter: 'a GPU',
    limits: { maxComputeWorkgroupStorageSize: 32768 },
  } as unknown as DeviceInfo;
  it('auto runs row on a GPU past headDim 128 at 32 KiB; tiled by name says why it cannot', () => {
    expect(chooseKernel(params(128, 'auto'), gpuInfo)).toBe('tiled');
    expect(chooseKernel(params(132, 'auto'), gpuInfo)).toBe('row');
    expect(() => chooseKernel(params(132, 'tiled'), gpuInfo)).toThrow(
      /kernel 'tiled' stages 32 keys and values of headDim 132 in 33792 bytes of workgroup memory, over the adapter's 32768 \(adapter a GPU\); use 'row' or 'auto'/,
    );
  });

  it.runIf(gpu)('on this adapter too: headDim 132 by name is refused before compiling', () => {
    const q = T.zeros([1, 1, 3, 132], { device: gpu! });
    const limit = gpu!.info.limits.maxComputeWorkgroupStorageSize ?? 16384;
    if (2 * 32 * 132 * 4 > limit)
      expect(() => attention(q, q, q, { kernel: 'tiled' })).toThrow(/kernel 'tiled' stages/);
    else expect(() => attention(q, q, q, { kernel: 'tiled' }).dispose()).not.toThrow();
    q.dispose();
  });
});

describe.runIf(gpu?.info.subgroups)('the lanes kernel by name', () => {
  it('names a headDim it cannot take (not a multiple of 4, or over 128)', () => {
    for (const d of [13, 132]) {
      const q = T.zeros([1, 1, 8, d], { device: gpu! });
      expect(() => attention(q, q, q, { kernel: 'lanes' })).toThrow(
        new RegExp(
          `kernel 'lanes' needs subgroups of at least 8 lanes and headDim a multiple of 4 up to 128 \\(adapter .*, headDim ${d}\\)`,
        ),
      );
    }
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
