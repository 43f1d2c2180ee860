/**
 * Optimizer step time for a 10M-parameter model on WebGPU: AdamW as one fused WGSL kernel per
 * parameter against the same update written in tensor ops, in the same run.
 * `npm run bench -w @tessera/optim`
 */
import * as T from '@tessera/tensor-webgpu';
import { AdamW, Muon } from '../src/index.js';

const dev = await T.createDevice({ backend: 'webgpu' });
// ~10M parameters in the shapes of a small transformer: an embedding and 10 blocks of 4 matrices + norms.
const shapes: number[][] = [[8192, 256]];
for (let l = 0; l < 10; l++)
  shapes.push([768, 256], [256, 256], [1024, 256], [256, 1024], [256], [256]);
const params = shapes.map((s, i) => T.randn(s, { seed: i, requiresGrad: true }));
for (const p of params) p.grad = T.randn(p.shape, { seed: 1000 });
const count = params.reduce((n, p) => n + p.size, 0);
console.log(
  `adapter: ${dev.info.adapter}; ${(count / 1e6).toFixed(2)}M parameters in ${params.length} tensors`,
);

async function time(opt: { step(): void }, reps = 5): Promise<number> {
  opt.step();
  await dev.sync();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    opt.step();
    await dev.sync();
  }
  return (performance.now() - t0) / reps;
}

const fused = await time(new AdamW(params, { lr: 1e-3, fused: true }));
const unfused = await time(new AdamW(params, { lr: 1e-3, fused: false }));
const muonParams = params.filter((p) => p.rank === 2).slice(1, 5);
const muon = await time(new Muon(muonParams, { lr: 0.02 }), 2);
console.log(`\n| AdamW step, ${(count / 1e6).toFixed(2)}M params | ms | ratio |\n|---|---|---|`);
console.log(
  `| fused WGSL kernel | ${fused.toFixed(1)} | ${(unfused / fused).toFixed(2)}× faster |`,
);
console.log(`| tensor ops (unfused) | ${unfused.toFixed(1)} | 1.00× |`);
console.log(
  `\nMuon step on one block's 4 matrices (${(muonParams.reduce((n, p) => n + p.size, 0) / 1e6).toFixed(2)}M params, 5 Newton–Schulz iterations): ${muon.toFixed(1)} ms`,
);
dev.destroy();
process.exit(0);
