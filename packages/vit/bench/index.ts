/**
 * Images per second of the reference app's MNIST ViT (`reference-llm vit train`'s model), training
 * and inference: Tessera (WebGPU, or the CPU backend) against PyTorch 1.13 on the CPU
 * (bench/torch_vit.py, the same model and batch), in one run of alternating rounds, each side
 * keeping its best window (the machine is shared: a slow moment costs both alike).
 * `npm run bench -w @tessera/vit` (the PyTorch half is skipped with a note without /usr/bin/python3
 * and torch).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AdamW, clipGradNorm } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { ViT } from '@tessera/vit';

const steps = 10;
const rounds = 3;
const [B, EVAL] = [128, 500];
const dev = await T.createDevice();
const vit = new ViT(
  {
    imageSize: 28,
    patchSize: 7,
    channels: 1,
    classes: 10,
    dModel: 64,
    layers: 4,
    heads: 4,
    ffnHidden: 128,
    initStd: 0.07,
    seed: 1,
  },
  dev,
);
const optimizer = new AdamW(vit.parameters(), { lr: 1e-3, weightDecay: 0.05 });
const x = T.randn([B, 1, 28, 28], { seed: 1 });
const y = T.randint(0, 10, [B], { seed: 2 });
const images = T.randn([EVAL, 1, 28, 28], { seed: 3 });

async function trainStep(): Promise<void> {
  const loss = T.tidy(() => {
    optimizer.zeroGrad();
    const l = T.crossEntropy(vit.forward(x), y);
    l.backward();
    clipGradNorm(vit.parameters(), 1.0).dispose();
    optimizer.step();
    return l;
  });
  await loss.item();
  loss.dispose();
}

async function classify(): Promise<void> {
  const predicted = T.noGrad(() => T.tidy(() => T.argmax(vit.forward(images), -1)));
  await predicted.data();
  predicted.dispose();
}

async function tessera(): Promise<{ train: number; inference: number }> {
  vit.train();
  let t0 = performance.now();
  for (let s = 0; s < steps; s++) await trainStep();
  const train = (steps * B) / ((performance.now() - t0) / 1000);
  vit.eval();
  t0 = performance.now();
  for (let i = 0; i < 4; i++) await classify();
  return { train, inference: (4 * EVAL) / ((performance.now() - t0) / 1000) };
}

interface TorchFigures {
  train_images_per_second: number;
  inference_images_per_second: number;
  threads: number;
}

function torch(): TorchFigures | undefined {
  if (!existsSync('/usr/bin/python3')) return undefined;
  const script = new URL('./torch_vit.py', import.meta.url).pathname;
  try {
    const out = execFileSync('/usr/bin/python3', [script, String(steps)], { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').at(-1)!);
  } catch (e) {
    console.log(`PyTorch comparison skipped: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

for (let i = 0; i < 3; i++) await trainStep(); // warm-up: pipelines compiled, buffers pooled
await classify();
let best = { train: 0, inference: 0 };
let baseline: TorchFigures | undefined;
for (let round = 0; round < rounds; round++) {
  const t = await tessera();
  best = { train: Math.max(best.train, t.train), inference: Math.max(best.inference, t.inference) };
  const p = torch();
  if (p && baseline) {
    baseline.train_images_per_second = Math.max(
      baseline.train_images_per_second,
      p.train_images_per_second,
    );
    baseline.inference_images_per_second = Math.max(
      baseline.inference_images_per_second,
      p.inference_images_per_second,
    );
  } else baseline ??= p;
}
console.log(
  `Tessera on ${dev.info.adapter}: training ${best.train.toFixed(0)} images/s (batch ${B}), inference ${best.inference.toFixed(0)} images/s (batches of ${EVAL}); ${vit.numParameters()} parameters, best of ${rounds} windows`,
);
if (baseline) {
  console.log(
    `PyTorch 1.13 CPU (${baseline.threads} threads): training ${baseline.train_images_per_second.toFixed(0)} images/s, inference ${baseline.inference_images_per_second.toFixed(0)} images/s (same model and batch; best of ${rounds})`,
  );
  console.log(
    `Tessera / PyTorch: training ${(best.train / baseline.train_images_per_second).toFixed(2)}×, inference ${(best.inference / baseline.inference_images_per_second).toFixed(2)}×`,
  );
}
const profile = await dev.profile(async () => {
  for (let s = 0; s < 3; s++) await trainStep();
});
console.log(`\nThree training steps, by kernel:\n\n${T.formatProfile(profile, 10)}`);
dev.destroy();
