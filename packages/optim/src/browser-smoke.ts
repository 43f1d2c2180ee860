import { createDevice, matmul, mean, randn, square, sub, tidy } from '@tessera/tensor-webgpu';
import { AdamW, clipGradNorm, warmupCosine } from './index.js';

/**
 * The README example, shortened to 20 steps, run by the browser test in headless Chromium and
 * in Node: AdamW with a warmup-cosine schedule and gradient clipping on a linear regression.
 */
export default async function browserSmoke(
  backend: 'webgpu' | 'cpu',
): Promise<Record<string, number[]>> {
  const dev = await createDevice({ backend });
  try {
    const x = randn([64, 8], { seed: 1 });
    const y = matmul(x, randn([8, 1], { seed: 2 }));
    const w = randn([8, 1], { seed: 3, requiresGrad: true });
    const opt = new AdamW([w], {
      lr: warmupCosine({ lr: 0.1, warmup: 5, total: 20 }),
      weightDecay: 0,
    });
    const losses: number[] = [];
    for (let step = 0; step < 20; step++) {
      const loss = tidy(() => {
        opt.zeroGrad();
        const l = mean(square(sub(matmul(x, w), y)));
        l.backward();
        clipGradNorm([w], 1.0);
        opt.step();
        return l;
      });
      losses.push(await loss.item());
      loss.dispose();
    }
    return { losses, weights: Array.from(await w.data()) };
  } finally {
    dev.destroy();
  }
}
