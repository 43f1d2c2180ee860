/**
 * Attention benchmarks: `npx tsx bench/index.ts [--long]` in the package (`--long` adds seq 16384;
 * `npm run bench -w @tessera/attention-flash` runs it without, then `bench/wasm.ts`).
 * Every figure is a ratio against the naive path (scores materialised from core ops) measured in
 * the same run: each shape runs its contenders in alternating rounds and keeps each one's best
 * wall time, read-back included (the machine may be shared; the load average is printed).
 * 1. [1, heads, seq, headDim] shapes — the issue's no-mask [4, 1024, 64], causal, GQA, and a
 *    decode-like one query against 4096 keys — forward and forward + backward: the kernel
 *    `attention()` picks on this adapter (`auto`), the earlier `row` kernel where it differs,
 *    and naive.
 * 2. Few query rows against many keys, forward: the `auto` kernel with 8 key splits
 *    (split-K) against the same kernel unsplit, and naive; and the splits `auto` picks here.
 *    Then few keys against many queries, forward + backward, with 8 query splits of dK/dV.
 * 3. Long sequences, causal forward + backward: flash only (naive's score matrix exceeds the
 *    storage binding limit), with the device memory held above the inputs — linear in seq.
 * 4. A decode step (`decodeAttention`, 1 query, 8 heads) against KV-cache lengths.
 */
import { loadavg } from 'node:os';
import * as T from '@tessera/tensor-webgpu';
import { chooseKernel, rowsPerWorkgroup } from '../src/flash-forward.js';
import { attention, decodeAttention, KVCache, naiveAttention } from '../src/index.js';
import { autoSplits } from '../src/key-split.js';
import { type AttentionShape, shapeParams } from './params.js';

const long = process.argv.includes('--long');
const rounds = 3;
const dev = await T.createDevice({ backend: 'webgpu' });
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(', ');
console.log(
  `adapter: ${dev.info.adapter}; storage binding limit ${(dev.info.limits.maxStorageBufferBindingSize! / 2 ** 20).toFixed(0)} MiB; load average ${load()}\n`,
);

/**
 * `unsplit`: the `auto` kernel with `keySplits` and `dkvSplits` 1; `split` with 8 key splits of
 * the forward, `splitDkv` with 8 query splits of the dK/dV pass.
 */
type Contender = 'auto' | 'row' | 'naive' | 'unsplit' | 'split' | 'splitDkv';

interface Shape extends AttentionShape {
  name: string;
}

const SHAPES: Shape[] = [
  { name: 'no mask', heads: 4, kvHeads: 4, sq: 1024, sk: 1024, d: 64, causal: false },
  { name: 'causal', heads: 4, kvHeads: 4, sq: 1024, sk: 1024, d: 64, causal: true },
  { name: 'GQA 8:2, causal', heads: 8, kvHeads: 2, sq: 512, sk: 512, d: 64, causal: true },
  { name: 'decode-like (1 query)', heads: 8, kvHeads: 8, sq: 1, sk: 4096, d: 64, causal: true },
  { name: 'tiny preset layer', heads: 4, kvHeads: 2, sq: 64, sk: 64, d: 12, causal: true },
];

/** Milliseconds of one call, read-back included: forward, or forward + backward (all grads). */
async function timeOnce(s: Shape, who: Contender, backward: boolean, batch = 1): Promise<number> {
  const q = T.randn([batch, s.heads, s.sq, s.d], { seed: 1 });
  const k = T.randn([batch, s.kvHeads, s.sk, s.d], { seed: 2 });
  const v = T.randn([batch, s.kvHeads, s.sk, s.d], { seed: 3 });
  await dev.sync();
  const run = (qq: T.Tensor, kk: T.Tensor, vv: T.Tensor) =>
    who === 'naive'
      ? naiveAttention(qq, kk, vv, { causal: s.causal })
      : who === 'unsplit' || who === 'split' || who === 'splitDkv'
        ? attention(qq, kk, vv, {
            causal: s.causal,
            keySplits: who === 'split' ? 8 : 1,
            dkvSplits: who === 'splitDkv' ? 8 : 1,
          })
        : attention(qq, kk, vv, { causal: s.causal, kernel: who });
  const t0 = performance.now();
  if (!backward) await T.tidy(() => run(q, k, v)).data();
  else {
    for (const t of [q, k, v]) t.requiresGrad = true;
    T.tidy(() => T.sum(run(q, k, v)).backward());
    await Promise.all([q, k, v].map((t) => t.grad!.data()));
  }
  const ms = performance.now() - t0;
  for (const t of [q, k, v]) t.dispose();
  return ms;
}

/** Best of alternating rounds for each contender (a first untimed call compiles). */
async function race(s: Shape, who: Contender[], backward: boolean, batch = 1) {
  for (const w of who) await timeOnce(s, w, backward, batch);
  const best = new Map<Contender, number>(who.map((w) => [w, Number.POSITIVE_INFINITY]));
  for (let r = 0; r < rounds; r++)
    for (const w of who) best.set(w, Math.min(best.get(w)!, await timeOnce(s, w, backward, batch)));
  return best;
}

const autoIsRow = !dev.info.software || !dev.info.subgroups;
const who: Contender[] = autoIsRow ? ['auto', 'naive'] : ['auto', 'row', 'naive'];
const ms = (x: number) => `${x.toFixed(1)} ms`;
console.log(`rounds: ${rounds} alternating, best kept; auto = the kernel attention() picks here\n`);
console.log(
  '| shape [heads, kvHeads, Sq, Sk, d] | pass | naive | flash auto | auto / naive | flash row (before) | row / naive |',
);
console.log('|---|---|--:|--:|--:|--:|--:|');
for (const s of SHAPES) {
  // The tiny preset's layer runs its training batch of 32 rows.
  const batch = s.name.startsWith('tiny') ? 32 : 1;
  for (const backward of [false, true]) {
    const best = await race(s, who, backward, batch);
    const naive = best.get('naive')!;
    const row = best.get('row');
    console.log(
      `| ${s.name} [${s.heads}, ${s.kvHeads}, ${s.sq}, ${s.sk}, ${s.d}]${batch > 1 ? ` ×${batch}` : ''} | ${backward ? 'fwd+bwd' : 'fwd'} | ${ms(naive)} | ${ms(best.get('auto')!)} | ${(best.get('auto')! / naive).toFixed(2)}× | ${row === undefined ? 'same' : ms(row)} | ${row === undefined ? '' : `${(row / naive).toFixed(2)}×`} |`,
    );
  }
}

/** The key splits `keySplits: 'auto'` gives a shape here (batch 1). */
function forwardSplits(s: Shape): number {
  const p = shapeParams(s);
  const rows = rowsPerWorkgroup(chooseKernel(p, dev.info));
  return autoSplits(s.sk, s.heads * Math.ceil(s.sq / rows), dev.info);
}

// Few query rows against many keys: too few workgroups to fill the adapter without split-K.
const FEW_ROWS: Shape[] = [
  { name: '1 head, 1 query', heads: 1, kvHeads: 1, sq: 1, sk: 65536, d: 64, causal: true },
  { name: '1 head, 8 queries', heads: 1, kvHeads: 1, sq: 8, sk: 65536, d: 64, causal: true },
  { name: '2 heads, 16 queries', heads: 2, kvHeads: 2, sq: 16, sk: 32768, d: 64, causal: true },
  { name: '8 heads, 8 queries', heads: 8, kvHeads: 8, sq: 8, sk: 16384, d: 64, causal: true },
  { name: '8 heads, 1 query', heads: 8, kvHeads: 8, sq: 1, sk: 4096, d: 64, causal: true },
];
console.log(`\nload average ${load()}\n`);
console.log(
  '| few rows, forward [heads, Sq, Sk, d] | naive | no split | 8 key splits | 8 splits / no split | split / naive | auto splits |',
);
console.log('|---|--:|--:|--:|--:|--:|--:|');
for (const s of FEW_ROWS) {
  const best = await race(s, ['split', 'unsplit', 'naive'], false);
  const [split, unsplit, naive] = (['split', 'unsplit', 'naive'] as const).map((w) => best.get(w)!);
  console.log(
    `| ${s.name} [${s.heads}, ${s.sq}, ${s.sk}, ${s.d}] | ${ms(naive!)} | ${ms(unsplit!)} | ${ms(split!)} | ${(split! / unsplit!).toFixed(2)}× | ${(split! / naive!).toFixed(2)}× | ${forwardSplits(s)} |`,
  );
}

// Few keys against many queries, forward + backward: the dK/dV pass (a workgroup per key block)
// idles the adapter without a split of the queries.
const FEW_KEYS: Shape[] = [
  { name: '1 head, 8 keys', heads: 1, kvHeads: 1, sq: 16384, sk: 8, d: 64, causal: false },
  { name: '4 heads, 32 keys', heads: 4, kvHeads: 4, sq: 8192, sk: 32, d: 64, causal: false },
];
console.log(
  '\n| few keys, forward + backward [heads, Sq, Sk, d] | naive | no split | 8 splits (dK/dV queries) | 8 splits / no split | split / naive |',
);
console.log('|---|--:|--:|--:|--:|--:|');
for (const s of FEW_KEYS) {
  const best = await race(s, ['splitDkv', 'unsplit', 'naive'], true);
  const [split, unsplit, naive] = (['splitDkv', 'unsplit', 'naive'] as const).map(
    (w) => best.get(w)!,
  );
  console.log(
    `| ${s.name} [${s.heads}, ${s.sq}, ${s.sk}, ${s.d}] | ${ms(naive!)} | ${ms(unsplit!)} | ${ms(split!)} | ${(split! / unsplit!).toFixed(2)}× | ${(split! / naive!).toFixed(2)}× |`,
  );
}

console.log(`\nload average ${load()}\n`);
console.log('| long causal sequence [1, 1, S, 64] | flash fwd+bwd | device memory above inputs |');
console.log('|---|--:|--:|');
for (const S of long ? [8192, 16384] : [8192]) {
  const q = T.randn([1, 1, S, 64], { seed: 1, requiresGrad: true });
  const k = T.randn([1, 1, S, 64], { seed: 2, requiresGrad: true });
  const v = T.randn([1, 1, S, 64], { seed: 3, requiresGrad: true });
  await dev.sync();
  const base = dev.memory().liveBytes;
  dev.resetPeakMemory();
  const t0 = performance.now();
  T.tidy(() => T.sum(attention(q, k, v, { causal: true })).backward());
  await Promise.all([q, k, v].map((t) => t.grad!.data()));
  const peak = (dev.memory().peakBytes - base) / 2 ** 20;
  console.log(`| ${S} | ${ms(performance.now() - t0)} | ${peak.toFixed(1)} MiB |`);
  for (const t of [q, k, v]) t.dispose();
}

console.log('\n| cache length | decode step (decodeAttention, 1 query, 8 heads, d=64) |');
console.log('|---|--:|');
for (const len of [128, 1024, 4096]) {
  const cache = new KVCache({ rows: 1, kvHeads: 8, headDim: 64, capacity: len });
  cache.append(T.randn([1, 8, len, 64], { seed: 4 }), T.randn([1, 8, len, 64], { seed: 5 }));
  const q = T.randn([1, 8, 1, 64], { seed: 6 });
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r <= rounds; r++) {
    const t0 = performance.now();
    await T.tidy(() => decodeAttention(q, cache, { causal: true })).data();
    if (r > 0) best = Math.min(best, performance.now() - t0);
  }
  console.log(`| ${len} | ${best.toFixed(2)} ms |`);
  cache.dispose();
}
dev.destroy();
process.exit(0);
