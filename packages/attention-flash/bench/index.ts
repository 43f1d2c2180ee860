/**
 * Attention benchmarks: `npm run bench -w @tessera/attention-flash` (`-- --quick` stops at 2k).
 * 1. Flash vs naive (materialised scores) attention, forward and forward+backward, causal,
 *    batch 1, 1 head, headDim 64, sequence 256…8192: median time and peak GPU memory, same run.
 * 2. A decode step (1 query, 8 heads) against KV-cache lengths 128…8192.
 */
import * as T from '@tessera/tensor-webgpu';
import { attention, decodeAttention, KVCache, naiveAttention } from '../src/index.js';

const quick = process.argv.includes('--quick');
const dev = await T.createDevice({ backend: 'webgpu' });
console.log(
  `adapter: ${dev.info.adapter}; storage binding limit ${(dev.info.limits.maxStorageBufferBindingSize! / 2 ** 20).toFixed(0)} MiB\n`,
);

async function measure(
  fn: () => void,
  reps: number,
): Promise<{ ms: number; peakMiB: number } | string> {
  try {
    T.tidy(fn); // warm-up: compiles the pipelines
    await dev.sync();
    const times: number[] = [];
    let peak = 0;
    for (let i = 0; i < reps; i++) {
      const base = dev.memory().liveBytes;
      dev.resetPeakMemory();
      const t0 = performance.now();
      T.tidy(fn);
      await dev.sync();
      times.push(performance.now() - t0);
      peak = Math.max(peak, dev.memory().peakBytes - base);
    }
    times.sort((a, b) => a - b);
    return { ms: times[Math.floor(times.length / 2)]!, peakMiB: peak / 2 ** 20 };
  } catch (e) {
    return (e as Error).message.includes('maxStorageBufferBindingSize')
      ? 'exceeds the storage binding limit'
      : `failed: ${(e as Error).message}`;
  }
}

const fmt = (r: { ms: number; peakMiB: number } | string) =>
  typeof r === 'string' ? r : `${r.ms.toFixed(1)} ms, ${r.peakMiB.toFixed(1)} MiB`;

console.log(
  '| seq | flash fwd | naive fwd | flash fwd+bwd | naive fwd+bwd | flash speed-up fwd / fwd+bwd |',
);
console.log('|---|---|---|---|---|---|');
for (const s of quick ? [256, 1024, 2048] : [256, 512, 1024, 2048, 4096, 8192]) {
  const q = T.randn([1, 1, s, 64], { seed: 1 });
  const k = T.randn([1, 1, s, 64], { seed: 2 });
  const v = T.randn([1, 1, s, 64], { seed: 3 });
  const reps = s >= 4096 ? 1 : 3;
  const fwd = (f: typeof attention | typeof naiveAttention) => () => {
    f(q, k, v, { causal: true });
  };
  const both = (f: typeof attention | typeof naiveAttention) => () => {
    const [qq, kk, vv] = [q, k, v].map((t) => t.detach().requiresGrad_());
    T.sum(f(qq!, kk!, vv!, { causal: true })).backward();
  };
  const flashF = await measure(fwd(attention), reps);
  const naiveF = await measure(fwd(naiveAttention), reps);
  const flashB = await measure(both(attention), reps);
  const naiveB = await measure(both(naiveAttention), reps);
  const speedup = (a: typeof flashF, b: typeof flashF) =>
    typeof a === 'string' || typeof b === 'string' ? 'n/a' : `${(b.ms / a.ms).toFixed(2)}×`;
  const ratio = `${speedup(flashF, naiveF)} / ${speedup(flashB, naiveB)}`;
  console.log(
    `| ${s} | ${fmt(flashF)} | ${fmt(naiveF)} | ${fmt(flashB)} | ${fmt(naiveB)} | ${ratio} |`,
  );
}

console.log('\n| cache length | decode step (1 query, 8 heads, d=64) |');
console.log('|---|---|');
for (const len of quick ? [128, 1024, 4096] : [128, 512, 1024, 2048, 4096, 8192]) {
  const cache = new KVCache({ rows: 1, kvHeads: 8, headDim: 64, capacity: len });
  cache.append(T.randn([1, 8, len, 64], { seed: 4 }), T.randn([1, 8, len, 64], { seed: 5 }));
  const q = T.randn([1, 8, 1, 64], { seed: 6 });
  const r = await measure(() => {
    decodeAttention(q, cache, { causal: true });
  }, 5);
  console.log(`| ${len} | ${typeof r === 'string' ? r : `${r.ms.toFixed(2)} ms`} |`);
  cache.dispose();
}
dev.destroy();
process.exit(0);
