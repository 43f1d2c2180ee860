/**
 * Time per sampling step (temperature 0.8, top-k 50, top-p 0.9) for 32k and 128k vocabularies,
 * batch 1 and 16: the CPU chain, the device chain (sampleOnDevice, reading back only the ids), and
 * a straightforward sort-based implementation, in one run. `npm run bench -w @tessera/sampler`
 */
import * as T from '@tessera/tensor-webgpu';
import {
  processLogits,
  processorChain,
  sampleIndex,
  sampleOnDevice,
  softmaxRow,
} from '../src/index.js';

const options = { temperature: 0.8, topK: 50, topP: 0.9 };
const dev = await T.createDevice({ backend: 'webgpu' });
console.log(`adapter: ${dev.info.adapter}\n`);

/** The textbook way: sort the whole vocabulary, cut at k, softmax, cut at p, sample. */
function sortBased(row: Float32Array, rng: T.Rng): number {
  const idx = Array.from(row.keys()).sort((a, b) => row[b]! - row[a]!);
  const top = idx.slice(0, options.topK);
  const scaled = top.map((i) => row[i]! / options.temperature);
  const m = Math.max(...scaled);
  const e = scaled.map((v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  let cum = 0;
  const kept: number[] = [];
  for (let j = 0; j < top.length; j++) {
    kept.push(j);
    cum += e[j]! / z;
    if (cum >= options.topP) break;
  }
  const p = new Float64Array(top.length);
  for (const j of kept) p[j] = e[j]!;
  return top[sampleIndex(p, rng)]!;
}

async function time(fn: () => Promise<void> | void, reps: number): Promise<number> {
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await fn();
  return (performance.now() - t0) / reps;
}

const chain = processorChain(options);
console.log(
  '| vocab | batch | sort-based (CPU) | Tessera CPU chain | Tessera device chain | CPU chain vs sort |',
);
console.log('|---|---|---|---|---|---|');
for (const vocab of [32_000, 128_000]) {
  for (const batch of [1, 16]) {
    const logits = T.mul(T.randn([batch, vocab], { seed: 1 }), 3);
    const data = (await logits.data()) as Float32Array;
    const rows = Array.from({ length: batch }, (_, b) => data.slice(b * vocab, (b + 1) * vocab));
    const rng = new T.Rng(1);
    const reps = vocab > 100_000 ? 3 : 5;
    const sorted = await time(() => {
      for (const r of rows) sortBased(r, rng);
    }, reps);
    const cpuChain = await time(() => {
      for (const r of rows)
        sampleIndex(softmaxRow(processLogits(r, { ids: [], step: 0 }, chain)), rng);
    }, reps);
    const seen = rows.map(() => [] as number[]);
    const device = await time(async () => {
      const ids = sampleOnDevice(logits, seen, { ...options, seed: 3 });
      await ids.data();
      ids.dispose();
    }, reps);
    console.log(
      `| ${vocab} | ${batch} | ${sorted.toFixed(2)} ms | ${cpuChain.toFixed(2)} ms | ${device.toFixed(2)} ms | ${(sorted / cpuChain).toFixed(2)}× faster |`,
    );
    logits.dispose();
  }
}
dev.destroy();
process.exit(0);
