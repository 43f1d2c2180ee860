/**
 * Training throughput of the `tiny` model: Tessera (WebGPU, or the CPU backend) against
 * PyTorch 1.13 on the CPU (bench/torch_throughput.py, same architecture and batch), in one run,
 * and where a Tessera step spends its time. `npm run bench -w @tessera/reference-llm`
 * (needs `apt-get install python3-torch`; the PyTorch half is skipped with a note otherwise).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AdamW, clipGradNorm } from '@tessera/optim';
import { generate } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { DecoderLM } from '@tessera/transformer';
import { PRESETS } from '../src/presets.js';

const steps = 30;
const preset = PRESETS.tiny!;
const dev = await T.createDevice();
const model = new DecoderLM({ ...preset.model, vocabSize: preset.vocabSize }, dev);
const opt = new AdamW(model.parameters(), { lr: preset.lr, betas: [0.9, 0.95], weightDecay: 0.1 });
const [B, L, V] = [preset.batchSize, preset.seqLen, preset.vocabSize];
const batch = () => ({
  x: T.randint(0, V, [B, L], { device: dev }),
  y: T.randint(0, V, [B * L], { device: dev }),
});

const phases = { forward: 0, backward: 0, update: 0, readback: 0 };
let total = 0;
for (let i = 0; i < steps + 3; i++) {
  const { x, y } = batch();
  const t0 = performance.now();
  // No tidy around the phases (backward needs the forward's intermediates, and tidy cannot span
  // an await): intermediates of this bench are left to the garbage collector.
  opt.zeroGrad();
  const loss = T.crossEntropy(T.reshape(model.forward(x), [-1, V]), y);
  await dev.sync();
  const t1 = performance.now();
  loss.backward();
  await dev.sync();
  const t2 = performance.now();
  T.tidy(() => {
    clipGradNorm(model.parameters(), 1.0);
    opt.step();
  });
  await dev.sync();
  const t3 = performance.now();
  await loss.item();
  const t4 = performance.now();
  for (const t of [x, y, loss]) t.dispose();
  if (i >= 3) {
    phases.forward += t1 - t0;
    phases.backward += t2 - t1;
    phases.update += t3 - t2;
    phases.readback += t4 - t3;
    total += t4 - t0;
  }
}
const tessera = (steps * B * L) / (total / 1000);
console.log(
  `Tessera on ${dev.info.adapter}: ${tessera.toFixed(0)} tokens/s (${model.numParameters()} parameters, batch ${B}×${L})`,
);
console.log(
  'step breakdown (synchronised after each phase, so slightly slower than a free-running step):',
);
for (const [name, ms] of Object.entries(phases))
  console.log(
    `  ${name.padEnd(9)} ${(ms / steps).toFixed(1)} ms  (${((100 * ms) / total).toFixed(0)}%)`,
  );
const mem = dev.memory();
console.log(
  `  dispatches so far ${mem.dispatches}, submits ${mem.submits}, pipelines ${mem.pipelinesCompiled}`,
);

// Generation: time per new token against the prompt length, with and without the KV cache.
console.log('\n| prompt tokens | ms/token with KV cache | ms/token without |');
console.log('|---|---|---|');
for (const promptLength of [4, 16, 32, 48]) {
  const prompt = Array.from({ length: promptLength }, (_, i) => (i * 7) % V);
  const perToken = async (useCache: boolean) => {
    const t0 = performance.now();
    let n = 0;
    for await (const _ of generate(model, prompt, { temperature: 0, maxNewTokens: 12, useCache }))
      n++;
    return (performance.now() - t0) / n;
  };
  await perToken(true); // warm-up
  console.log(
    `| ${promptLength} | ${(await perToken(true)).toFixed(1)} | ${(await perToken(false)).toFixed(1)} |`,
  );
}

const script = new URL('./torch_throughput.py', import.meta.url).pathname;
if (existsSync('/usr/bin/python3')) {
  try {
    const out = JSON.parse(
      execFileSync('/usr/bin/python3', [script, String(steps)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .at(-1)!,
    );
    console.log(
      `PyTorch ${'1.13'} CPU (${out.threads} threads): ${out.tokens_per_second.toFixed(0)} tokens/s (${out.params} parameters)`,
    );
    console.log(`Tessera / PyTorch: ${(tessera / out.tokens_per_second).toFixed(2)}×`);
  } catch (e) {
    console.log(
      `PyTorch comparison skipped: ${(e as Error).message.split('\n')[0]} (apt-get install python3-torch)`,
    );
  }
}
dev.destroy();
process.exit(0);
