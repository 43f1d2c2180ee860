import { readFileSync } from 'node:fs';
import { AdamW, Lion, type Optimizer, SGD } from '@tessera/optim';
import type { Device } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { compileKernels, generatedSource } from '../../../scripts/build-wasm.js';
import { OPTIM_KERNELS } from './wasm.js';

const { wasm, cpu } = await testDevices();

/** An optimizer over one parameter `p`, and the names of the state tensors it keeps. */
type Make = (p: T.Tensor) => { opt: Optimizer<never, never>; state: string[] };

const OPTIMIZERS: Record<string, Make> = {
  adamw: (p) => ({
    opt: new AdamW([p], { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99] }) as never,
    state: ['0.exp_avg', '0.exp_avg_sq'],
  }),
  sgd: (p) => ({
    opt: new SGD([p], { lr: 0.01, weightDecay: 0.1, momentum: 0.9 }) as never,
    state: ['0.momentum_buffer'],
  }),
  'sgd (nesterov)': (p) => ({
    opt: new SGD([p], { lr: 0.01, momentum: 0.8, nesterov: true }) as never,
    state: ['0.momentum_buffer'],
  }),
  lion: (p) => ({
    opt: new Lion([p], { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99] }) as never,
    state: ['0.exp_avg'],
  }),
};

/**
 * Three steps of an optimizer on a parameter of `n` elements with random gradients; the
 * parameter and its state after them.
 */
async function steps(dev: Device, make: Make, n: number) {
  const p = T.randn([n], { device: dev, seed: 1, requiresGrad: true });
  const { opt, state } = make(p);
  for (let step = 0; step < 3; step++) {
    p.grad = T.randn([n], { device: dev, seed: 10 + step });
    opt.step();
  }
  const { tensors } = opt.stateDict();
  return Promise.all([p.data(), ...state.map((k) => tensors[k]!.data())]);
}

describe('the optimizers wasm kernels', () => {
  it('are what the committed AssemblyScript sources build to (npm run build rewrites them)', async () => {
    const built = await compileKernels(new URL('../assembly/index.ts', import.meta.url).pathname);
    expect(Buffer.from(OPTIM_KERNELS.bytes()).equals(Buffer.from(built))).toBe(true);
    const committed = readFileSync(new URL('./kernels.generated.ts', import.meta.url), 'utf8');
    expect(committed).toBe(generatedSource(built, 'assembly/index.ts'));
  }, 300_000); // the AssemblyScript compiler takes minutes on a busy CI machine

  // 7: the scalar tail alone; 100,003: every thread, shares that end mid-vector.
  for (const [name, make] of Object.entries(OPTIMIZERS))
    for (const n of [7, 100_003]) {
      it.runIf(wasm)(
        `${name}'s fused update runs on wasm and agrees with the reference (${n})`,
        async () => {
          const kernel = `${name.split(' ')[0]}:f32`;
          const profile = await wasm!.profile(async () => {
            await steps(wasm!, make, n);
          });
          const names = profile.kernels.map((k) => k.name);
          expect(names).toContain(kernel);
          expect(names).not.toContain(`${kernel}:reference`);
          const [got, want] = [await steps(wasm!, make, n), await steps(cpu, make, n)];
          expect(got).toHaveLength(want.length);
          for (let i = 0; i < want.length; i++)
            expect(maxRelError(got[i]!, want[i]!)).toBeLessThan(1e-5);
        },
      );
    }

  it.runIf(wasm)(
    'lion: a NaN gradient gives NaN where it falls, as the reference (SIMD lane and tail)',
    async () => {
      const run = async (dev: Device) => {
        const p = T.randn([7], { device: dev, seed: 1, requiresGrad: true });
        const { opt } = OPTIMIZERS.lion!(p);
        p.grad = T.tensor([0.5, -1, Number.NaN, 0, 2, 3, Number.NaN], { device: dev });
        opt.step();
        return p.data();
      };
      const [got, want] = [await run(wasm!), await run(cpu)];
      expect(Array.from(got, Number.isNaN)).toEqual([
        false,
        false,
        true,
        false,
        false,
        false,
        true,
      ]);
      expect(maxRelError(got, want)).toBeLessThan(1e-6);
    },
  );
});
