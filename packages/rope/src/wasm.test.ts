import { readFileSync } from 'node:fs';
import { Rope } from '@tessera/rope';
import type { Device } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { compileKernels, generatedSource } from '../../../scripts/build-wasm.js';
import { ROPE_KERNELS } from './wasm.js';

const { wasm, cpu } = await testDevices();

/**
 * The tiny preset's pattern at a size every thread works on: heads split from a [B, T, H·D]
 * projection by a transposed view, 12 of 16 dims rotated, forward and backward.
 */
async function rotateHeads(dev: Device, convention: 'half' | 'interleaved') {
  const [b, t, h, d] = [8, 64, 6, 16];
  const rope = new Rope({ dim: 12, maxPositions: 80, convention, device: dev });
  const proj = T.randn([b, t, h * d], { device: dev, seed: 1 }).requiresGrad_();
  const heads = T.transpose(T.reshape(proj, [b, t, h, d]), 1, 2);
  const y = rope.apply(heads, { offset: 3 });
  T.sum(T.mul(y, T.randn(y.shape, { device: dev, seed: 2 }))).backward();
  return [await y.data(), await proj.grad!.data()];
}

describe('the RoPE wasm kernel', () => {
  it('is what the committed AssemblyScript source builds to (npm run build rewrites it)', async () => {
    const built = await compileKernels(new URL('../assembly/index.ts', import.meta.url).pathname);
    expect(Buffer.from(ROPE_KERNELS.bytes()).equals(Buffer.from(built))).toBe(true);
    const committed = readFileSync(new URL('./kernels.generated.ts', import.meta.url), 'utf8');
    expect(committed).toBe(generatedSource(built, 'assembly/index.ts'));
  }, 300_000); // the AssemblyScript compiler takes minutes on a busy CI machine

  for (const convention of ['half', 'interleaved'] as const) {
    it.runIf(wasm)(`runs (not the CPU reference) and agrees with it: ${convention}`, async () => {
      const profile = await wasm!.profile(async () => {
        await rotateHeads(wasm!, convention);
      });
      const names = profile.kernels.map((k) => k.name);
      expect(names).toContain('rope:f32');
      expect(names).not.toContain('rope:f32:reference');
      const [got, want] = [
        await rotateHeads(wasm!, convention),
        await rotateHeads(cpu, convention),
      ];
      for (let i = 0; i < 2; i++) expect(maxRelError(got[i]!, want[i]!)).toBeLessThan(1e-6);
    });
  }

  it.runIf(wasm)('raises the reference error for a position outside the tables', () => {
    const rope = new Rope({ dim: 4, maxPositions: 4, device: wasm! });
    const positions = T.tensor(Int32Array.from([0, 4, 1]), { device: wasm! });
    expect(() => rope.apply(T.zeros([3, 4], { device: wasm! }), { positions })).toThrow(
      'rope: position 4 is outside the tables (0..3)',
    );
  });
});
