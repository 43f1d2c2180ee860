/**
 * Where `kernel: 'auto'` switches from the `row` kernel to the naive path on a CPU adapter
 * without `lanes` (`naiveIsFaster`, `ROW_NAIVE_CROSSOVER`): `npx tsx bench/crossover.ts` times
 * `kernel: 'row'` against `naiveAttention` over headDim, length and the causal mask, forward and
 * forward + backward, in alternating rounds (best kept, read-back included), and prints
 * row / naive — above 1 the naive path is faster — beside what `auto` would run.
 */
import * as T from '@tessera/tensor-webgpu';
import { naiveIsFaster } from '../src/attention.js';
import { attention, naiveAttention } from '../src/index.js';
import { shapeParams } from './params.js';

const dev = await T.createDevice({ backend: 'webgpu' });
const rounds = 3;

interface Shape {
  batch: number;
  heads: number;
  seq: number;
  d: number;
  causal: boolean;
}

async function once(s: Shape, who: 'row' | 'naive', backward: boolean): Promise<number> {
  const [q, k, v] = [1, 2, 3].map((seed) => T.randn([s.batch, s.heads, s.seq, s.d], { seed })) as [
    T.Tensor,
    T.Tensor,
    T.Tensor,
  ];
  await dev.sync();
  const run = () =>
    who === 'naive'
      ? naiveAttention(q, k, v, { causal: s.causal })
      : attention(q, k, v, { causal: s.causal, kernel: 'row' });
  const t0 = performance.now();
  if (!backward) await T.tidy(run).data();
  else {
    for (const t of [q, k, v]) t.requiresGrad = true;
    T.tidy(() => T.sum(run()).backward());
    await Promise.all([q, k, v].map((t) => t.grad!.data()));
  }
  const ms = performance.now() - t0;
  for (const t of [q, k, v]) t.dispose();
  return ms;
}

const SHAPES: Shape[] = [
  ...[8, 16, 32, 64, 128].map((d) => ({ batch: 1, heads: 4, seq: 256, d, causal: false })),
  ...[64, 128, 256, 384, 512].map((seq) => ({ batch: 1, heads: 4, seq, d: 64, causal: true })),
  ...[32, 128].map((d) => ({ batch: 1, heads: 4, seq: 256, d, causal: true })),
  { batch: 8, heads: 4, seq: 64, d: 64, causal: false },
  { batch: 1, heads: 4, seq: 128, d: 128, causal: true },
  { batch: 1, heads: 4, seq: 512, d: 64, causal: false },
];

console.log(`adapter: ${dev.info.adapter}\n`);
console.log('| [batch, heads, seq, d], mask | pass | row | naive | row / naive | auto runs |');
console.log('|---|---|--:|--:|--:|---|');
for (const s of SHAPES) {
  const params = shapeParams({ ...s, kvHeads: s.heads, sq: s.seq, sk: s.seq });
  for (const backward of [false, true]) {
    // As on an adapter where `lanes` cannot run: what `auto` chooses between row and naive.
    const info = { ...dev.info, subgroups: false };
    const auto = naiveIsFaster(params, info, backward) ? 'naive' : 'row';
    const best = { row: Number.POSITIVE_INFINITY, naive: Number.POSITIVE_INFINITY };
    for (const who of ['row', 'naive'] as const) await once(s, who, backward);
    for (let r = 0; r < rounds; r++)
      for (const who of ['row', 'naive'] as const)
        best[who] = Math.min(best[who], await once(s, who, backward));
    console.log(
      `| [${s.batch}, ${s.heads}, ${s.seq}, ${s.d}], ${s.causal ? 'causal' : 'none'} | ${backward ? 'fwd+bwd' : 'fwd'} | ${best.row.toFixed(1)} ms | ${best.naive.toFixed(1)} ms | ${(best.row / best.naive).toFixed(2)}× | ${auto} |`,
    );
  }
}
dev.destroy();
process.exit(0);
