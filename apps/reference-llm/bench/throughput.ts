/**
 * Training throughput of the `tiny` model: Tessera (WebGPU, or the CPU backend) and Tessera's
 * wasm backend (WebAssembly SIMD on the CPU's cores) against PyTorch 1.13 on the CPU
 * (bench/torch_throughput.py, same architecture and batch), in one run of alternating rounds,
 * and where a Tessera step spends its time (`device.profile`).
 * `npm run bench -w @tessera/reference-llm` (needs `apt-get install python3-torch`; the
 * PyTorch half is skipped with a note otherwise).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { generate } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { PRESETS } from '../src/presets.js';
import { formatTimeByOp, TrainingProbe } from '../src/probe.js';

const steps = 20;
const rounds = 3;
const preset = PRESETS.tiny!;
const dev = await T.createDevice();
const probe = new TrainingProbe(preset, dev);
const model = probe.model;
// The wasm backend beside it, unless auto already chose it (no WebGPU adapter).
const wasm = dev.backend === 'wasm' ? undefined : await T.createDevice({ backend: 'wasm' });
const wasmProbe = wasm && new TrainingProbe(preset, wasm);
const [B, L, V] = [preset.batchSize, preset.seqLen, preset.vocabSize];

/** PyTorch's tokens per second over `steps` steps, or undefined (with a note) without python3-torch. */
function torchWindow(): { tokensPerSecond: number; threads: number } | undefined {
  if (!existsSync('/usr/bin/python3')) return undefined;
  const script = new URL('./torch_throughput.py', import.meta.url).pathname;
  try {
    const out = JSON.parse(
      execFileSync('/usr/bin/python3', [script, String(steps)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .at(-1)!,
    );
    return { tokensPerSecond: out.tokens_per_second, threads: out.threads };
  } catch (e) {
    console.log(
      `PyTorch comparison skipped: ${(e as Error).message.split('\n')[0]} (apt-get install python3-torch)`,
    );
    return undefined;
  }
}

await probe.warmup();
await wasmProbe?.warmup();
// Rounds alternate between them, and each keeps its best: the machine is shared, and a slow
// moment then costs every side alike.
let tessera = 0;
let tesseraWasm = 0;
let torch: { tokensPerSecond: number; threads: number } | undefined;
for (let round = 0; round < rounds; round++) {
  tessera = Math.max(tessera, await probe.throughput(steps));
  if (wasmProbe) tesseraWasm = Math.max(tesseraWasm, await wasmProbe.throughput(steps));
  const t = torchWindow();
  if (t && (!torch || t.tokensPerSecond > torch.tokensPerSecond)) torch = t;
}
console.log(
  `Tessera on ${dev.info.adapter}: ${tessera.toFixed(0)} tokens/s (${model.numParameters()} parameters, batch ${B}×${L}, best of ${rounds} windows of ${steps} steps)`,
);
if (wasm)
  console.log(
    `Tessera on ${wasm.info.adapter}: ${tesseraWasm.toFixed(0)} tokens/s (wasm / ${dev.backend}: ${(tesseraWasm / tessera).toFixed(2)}×)`,
  );
if (torch) {
  console.log(
    `PyTorch 1.13 CPU (${torch.threads} threads): ${torch.tokensPerSecond.toFixed(0)} tokens/s (same model, batch, AdamW and clipping; best of ${rounds})`,
  );
  console.log(`Tessera / PyTorch: ${(tessera / torch.tokensPerSecond).toFixed(2)}×`);
  if (wasm)
    console.log(`Tessera wasm / PyTorch: ${(tesseraWasm / torch.tokensPerSecond).toFixed(2)}×`);
}
if (wasmProbe) {
  const wasmProfile = await wasmProbe.profile();
  console.log(`\nThree training steps on wasm, by kernel:\n\n${T.formatProfile(wasmProfile, 12)}`);
  wasm!.destroy();
}

// Where a step's device time goes, kernel by kernel (timestamp queries around each dispatch).
const profile = await probe.profile();
console.log(`\nThree training steps, by kernel:\n\n${T.formatProfile(profile, 12)}`);
console.log(`\n${formatTimeByOp(profile)}`);

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

dev.destroy();
process.exit(0);
