import { readFileSync } from 'node:fs';
import { attention, decodeAttention, KVCache } from '@tessera/attention-flash';
import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { compileKernels, generatedSource } from '../../../scripts/build-wasm.js';
import { ATTENTION_KERNELS } from './wasm.js';

const { wasm, cpu } = await testDevices();

interface Case {
  name: string;
  /** batch, heads, kvHeads, Sq, Sk, headDim */
  dims: [number, number, number, number, number, number];
  causal?: boolean;
  window?: number;
  /** Batch 1 masks its first 6 keys (with `causal`, its first rows see nothing). */
  pad?: boolean;
}

const CASES: Case[] = [
  {
    name: 'the tiny preset (GQA 2, causal, headDim 12)',
    dims: [3, 4, 2, 64, 64, 12],
    causal: true,
  },
  { name: 'headDim 13 (a scalar tail), Sk across tiles', dims: [2, 3, 3, 33, 65, 13] },
  { name: 'causal, Sq < Sk (bottom-right)', dims: [1, 2, 1, 19, 45, 8], causal: true },
  { name: 'sliding window 7, GQA 4', dims: [1, 8, 2, 40, 40, 16], causal: true, window: 7 },
  { name: 'bidirectional window 5, MQA', dims: [1, 4, 1, 21, 29, 20], window: 5 },
  { name: 'key padding, a fully masked row', dims: [2, 2, 1, 5, 9, 32], causal: true, pad: true },
  { name: 'parallel size (every thread)', dims: [2, 4, 2, 128, 128, 32], causal: true },
];

/** The case's q, k, v and mask on `dev`, the same values on every device. */
function inputs(dev: Device, c: Case, grad = false) {
  const [b, h, hkv, sq, sk, d] = c.dims;
  const make = (shape: number[], seed: number) =>
    T.randn(shape, { device: dev, seed, requiresGrad: grad });
  const keyPaddingMask = c.pad
    ? T.tensor(
        Array.from({ length: b * sk }, (_, i) => (i >= sk && i % sk < 6 ? 0 : 1)),
        { device: dev, shape: [b, sk] },
      )
    : undefined;
  return {
    q: make([b, h, sq, d], 1),
    k: make([b, hkv, sk, d], 2),
    v: make([b, hkv, sk, d], 3),
    opts: { causal: c.causal, window: c.window, keyPaddingMask },
  };
}

/** Output, log-sum-exp and the gradients of q, k, v under a random upstream gradient. */
async function run(dev: Device, c: Case): Promise<ArrayLike<number>[]> {
  const { q, k, v, opts } = inputs(dev, c, true);
  const { out, lse } = attention(q, k, v, { ...opts, returnLse: true });
  const w = T.randn(out.shape as number[], { device: dev, seed: 9 });
  T.sum(T.mul(out, w)).backward();
  return Promise.all([out, lse, q.grad!, k.grad!, v.grad!].map((t: Tensor) => t.data()));
}

describe('the attention wasm kernels', () => {
  it('are what the committed AssemblyScript sources build to (npm run build rewrites them)', async () => {
    const built = await compileKernels(new URL('../assembly/index.ts', import.meta.url).pathname);
    expect(Buffer.from(ATTENTION_KERNELS.bytes()).equals(Buffer.from(built))).toBe(true);
    const committed = readFileSync(new URL('./kernels.generated.ts', import.meta.url), 'utf8');
    expect(committed).toBe(generatedSource(built, 'assembly/index.ts'));
  }, 300_000); // the AssemblyScript compiler takes minutes on a busy CI machine

  it.runIf(wasm)('run the forward and both backward ops (no CPU reference on wasm)', async () => {
    const c = CASES[0]!;
    const profile = await wasm!.profile(async () => {
      await run(wasm!, c);
    });
    const names = profile.kernels.map((k) => k.name);
    for (const op of ['flash_attention', 'flash_attention_dq', 'flash_attention_dkv'])
      expect(names).toContain(`${op}:f32`);
    expect(names.filter((n) => n.startsWith('flash') && n.endsWith(':reference'))).toEqual([]);
  });

  for (const c of CASES) {
    it.runIf(wasm)(`agree with the CPU reference: ${c.name}`, async () => {
      const [got, want] = [await run(wasm!, c), await run(cpu, c)];
      const [out, lse, ...grads] = got.map((g, i) => maxRelError(g, want[i]!));
      expect(out).toBeLessThan(2e-5);
      expect(lse).toBeLessThan(2e-5);
      for (const e of grads) expect(e).toBeLessThan(1e-4);
    });
  }

  it.runIf(wasm)(
    'decode rows of a KV cache at their own lengths, as the reference does',
    async () => {
      const decode = async (dev: Device) => {
        const [hkv, d] = [2, 12];
        const cache = new KVCache({ rows: 3, kvHeads: hkv, headDim: d, pageSize: 16, device: dev });
        // Rows 0..2 filled to 20, 7 and 33 positions, then one query each at its own length.
        const lengths = [20, 7, 33];
        for (const [row, len] of lengths.entries()) {
          const kv = (seed: number) => T.randn([1, hkv, len, d], { device: dev, seed: seed + row });
          cache.append(kv(10), kv(20), { rows: [row] });
        }
        const q = T.randn([3, 4, 1, d], { device: dev, seed: 5 });
        return decodeAttention(q, cache, { causal: true, rows: [2, 0, 1] }).data();
      };
      const profile = await wasm!.profile(async () => {
        await decode(wasm!);
      });
      expect(profile.kernels.map((k) => k.name)).toContain('flash_decode:f32');
      expect(maxRelError(await decode(wasm!), await decode(cpu))).toBeLessThan(2e-5);
    },
  );

  for (const causal of [true, false])
    it.runIf(wasm)(
      `run packed rows (documentIds${causal ? ', causal' : ', key padding, bidirectional'}) and agree with the CPU reference`,
      async () => {
        const packed = async (dev: Device) => {
          // GQA: 4 query heads share 2 KV heads.
          const [q, k, v] = [4, 2, 2].map((heads, s) =>
            T.randn([2, heads, 10, 8], { device: dev, seed: s, requiresGrad: true }),
          );
          // Row 0 packs documents of 4 and 6 positions, row 1 one of 7 and one of 3.
          const ids = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1];
          const documentIds = T.tensor(ids, { device: dev, shape: [2, 10] });
          const keyPaddingMask = causal
            ? undefined
            : T.tensor(
                Array.from({ length: 20 }, (_, i) => (i === 9 || i === 15 ? 0 : 1)),
                { device: dev, shape: [2, 10] },
              );
          const out = attention(q!, k!, v!, { causal, documentIds, keyPaddingMask });
          T.sum(T.mul(out, out)).backward();
          return Promise.all([out, q!.grad!, k!.grad!, v!.grad!].map((t) => t.data()));
        };
        const profile = await wasm!.profile(async () => {
          await packed(wasm!);
        });
        const names = profile.kernels.map((k) => k.name);
        for (const op of ['flash_attention', 'flash_attention_dq', 'flash_attention_dkv']) {
          expect(names).toContain(`${op}:f32`);
          expect(names).not.toContain(`${op}:f32:reference`);
        }
        const [got, want] = [await packed(wasm!), await packed(cpu)];
        for (let i = 0; i < 4; i++) expect(maxRelError(got[i]!, want[i]!)).toBeLessThan(1e-5);
      },
    );

  it.runIf(wasm)('leave f16 to the CPU reference', async () => {
    const [q, k, v] = [1, 2, 3].map((s) =>
      T.cast(T.randn([1, 2, 9, 8], { device: wasm!, seed: s }), 'f16'),
    );
    const profile = await wasm!.profile(async () => {
      await attention(q!, k!, v!).data();
    });
    expect(profile.kernels.map((k) => k.name)).toContain('flash_attention:f16:reference');
  });
});
