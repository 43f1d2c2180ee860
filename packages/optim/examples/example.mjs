import { AdamW, clipGradNorm, warmupCosine } from '@tessera/optim';
import { createDevice, matmul, mean, randn, square, sub, tidy } from '@tessera/tensor-webgpu';

const dev = await createDevice();
const x = randn([64, 8], { seed: 1 });
const y = matmul(x, randn([8, 1], { seed: 2 })); // a linear target to recover
const w = randn([8, 1], { seed: 3, requiresGrad: true });

// The learning rate is a number or a schedule: the optimizer reads it at every step.
const opt = new AdamW([w], {
  lr: warmupCosine({ lr: 0.1, warmup: 10, total: 200 }),
  weightDecay: 0,
});
for (let step = 0; step < 200; step++) {
  const loss = tidy(() => {
    opt.zeroGrad();
    const l = mean(square(sub(matmul(x, w), y)));
    l.backward();
    clipGradNorm([w], 1.0);
    opt.step();
    return l;
  });
  if (step % 50 === 0 || step === 199)
    console.log(`step ${step} loss ${(await loss.item()).toExponential(3)}`);
  loss.dispose();
}
dev.destroy();
