import * as T from '@tessera/tensor-webgpu';
import { attention, naiveAttention } from '../src/index.js';

const dev = await T.createDevice({ backend: 'webgpu' });
async function once(
  S: number,
  h: number,
  d: number,
  causal: boolean,
  who: string,
  bwd: boolean,
  batch: number,
) {
  const q = T.randn([batch, h, S, d], { seed: 1 }),
    k = T.randn([batch, h, S, d], { seed: 2 }),
    v = T.randn([batch, h, S, d], { seed: 3 });
  await dev.sync();
  const run = (a: T.Tensor, b: T.Tensor, c: T.Tensor) =>
    who === 'naive'
      ? naiveAttention(a, b, c, { causal })
      : attention(a, b, c, { causal, kernel: 'row' });
  const t0 = performance.now();
  if (!bwd) await T.tidy(() => run(q, k, v)).data();
  else {
    for (const t of [q, k, v]) t.requiresGrad = true;
    T.tidy(() => T.sum(run(q, k, v)).backward());
    await Promise.all([q, k, v].map((t) => t.grad!.data()));
  }
  const ms = performance.now() - t0;
  for (const t of [q, k, v]) t.dispose();
  return ms;
}
for (const [S, h, d, causal, batch] of [
  [256, 4, 8, false, 1],
  [256, 4, 16, false, 1],
  [256, 4, 32, false, 1],
  [64, 4, 16, false, 8],
  [64, 4, 32, false, 8],
  [1024, 1, 16, false, 1],
  [1024, 1, 32, false, 1],
  [128, 4, 128, true, 1],
] as [number, number, number, boolean, number][]) {
  for (const bwd of [false, true]) {
    const best: Record<string, number> = { row: 1e9, naive: 1e9 };
    for (const w of ['row', 'naive']) await once(S, h, d, causal, w, bwd, batch);
    for (let r = 0; r < 3; r++)
      for (const w of ['row', 'naive'])
        best[w] = Math.min(best[w]!, await once(S, h, d, causal, w, bwd, batch));
    console.log(
      `S=${S} h=${h} d=${d} causal=${causal} batch=${batch} ${bwd ? 'fwd+bwd' : 'fwd'}: row ${best.row!.toFixed(1)} naive ${best.naive!.toFixed(1)} row/naive ${(best.row! / best.naive!).toFixed(2)}`,
    );
  }
}
process.exit(0);
