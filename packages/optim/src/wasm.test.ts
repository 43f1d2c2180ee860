import { readFileSync } from 'node:fs';
import { AdamW } from '@tessera/optim';
import type { Device } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { compileKernels, generatedSource } from '../../../scripts/build-wasm.js';
import { OPTIM_KERNELS } from './wasm.js';

const { wasm, cpu } = await testDevices();

/**
 * Three AdamW steps on a parameter of `n` elements with weight decay and random gradients;
 * the parameter and both moments after them.
 */
async function adamw(dev: Device, n: number) {
  const p = T.randn([n], { device: dev, seed: 1, requiresGrad: true });
  const opt = new AdamW([p], { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99] });
  for (let step = 0; step < 3; step++) {
    p.grad = T.randn([n], { device: dev, seed: 10 + step });
    opt.step();
  }
  const { tensors } = opt.stateDict();
  return Promise.all([p.data(), tensors['0.exp_avg']!.data(), tensors['0.exp_avg_sq']!.data()]);
}

describe('the optimizers wasm kernels', () => {
  it('are what the committed AssemblyScript sources build to (npm run build rewrites them)', async () => {
    const built = await compileKernels(new URL('../assembly/index.ts', import.meta.url).pathname);
    expect(Buffer.from(OPTIM_KERNELS.bytes()).equals(Buffer.from(built))).toBe(true);
    const committed = readFileSync(new URL('./kernels.generated.ts', import.meta.url), 'utf8');
    expect(committed).toBe(generatedSource(built, 'assembly/index.ts'));
  }, 300_000); // the AssemblyScript compiler takes minutes on a busy CI machine

  // 7: the scalar tail alone; 100,003: every thread, shares that end mid-vector.
  for (const n of [7, 100_003]) {
    it.runIf(wasm)(
      `AdamW's fused update runs on wasm and agrees with the reference (${n})`,
      async () => {
        const profile = await wasm!.profile(async () => {
          await adamw(wasm!, n);
        });
        const names = profile.kernels.map((k) => k.name);
        expect(names).toContain('adamw:f32');
        expect(names).not.toContain('adamw:f32:reference');
        const [got, want] = [await adamw(wasm!, n), await adamw(cpu, n)];
        for (let i = 0; i < 3; i++) expect(maxRelError(got[i]!, want[i]!)).toBeLessThan(1e-5);
      },
    );
  }
});
