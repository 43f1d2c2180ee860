/**
 * Mixture-of-experts benchmark: `npm run bench -w @tessera/moe` (`-- --quick`: the small shape
 * only). On WebGPU, medians of repeated runs after a warm-up, all in one process:
 * 1. the MoE layer (route, dispatch, one grouped matmul per projection, combine) against a dense
 *    SwiGLU FFN of the same active size (hidden = k · expert hidden: the same multiply-adds per
 *    token) — the price of routing;
 * 2. the MoE layer against the loop over experts (`naiveMoE`: the routing read back, then E
 *    small products, as Hugging Face's Mixtral and DeepSeek-V3 modules compute it);
 * forward (eval mode), and forward + backward (training mode, with the auxiliary losses). Then
 * the share of the MoE forward spent in the grouped matmuls, from the kernel profile;
 * 3. the router's choice of experts, `selectExperts` (a thread per token) against the core's
 *    general `topk` (a workgroup per row).
 */
import { type Module, SwiGLU } from '@tessera/nn';
import * as T from '@tessera/tensor-webgpu';
import { MoE, selectExperts } from '../src/index.js';
import { loopOverExperts } from '../src/naive.js';

const quick = process.argv.includes('--quick');
const dev = await T.createDevice({ backend: 'webgpu' });
console.log(`adapter: ${dev.info.adapter}\n`);

/**
 * Median wall time (ms) of each of `fns` over `reps` runs after one warm-up each, each run
 * synced. The runs take turns (a, b, c, a, b, c, …), so load from other processes on a shared
 * machine falls on all of them alike.
 */
async function measure(fns: (() => Promise<void>)[], reps: number): Promise<number[]> {
  for (const fn of fns) {
    await fn();
    await dev.sync();
  }
  const times = fns.map(() => [] as number[]);
  for (let i = 0; i < reps; i++) {
    for (const [j, fn] of fns.entries()) {
      const t0 = performance.now();
      await fn();
      await dev.sync();
      times[j]!.push(performance.now() - t0);
    }
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]!);
}

/** Runs `f(x)`, and its backward when `backward`, freeing everything it made. */
function pass(model: Module, f: () => T.Tensor, backward: boolean): void {
  T.tidy(() => {
    const y = f();
    if (backward) T.sum(T.square(y)).backward();
    for (const p of model.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  });
}

const shapes: [tokens: number, dim: number, hidden: number, experts: number, k: number][] = quick
  ? [[512, 128, 256, 8, 2]]
  : [
      [512, 128, 256, 8, 2],
      [2048, 256, 512, 8, 2],
      [2048, 256, 128, 32, 8],
    ];

console.log(
  '| tokens × dim, experts (hidden) top-k | pass | MoE | dense FFN, same active size | loop over experts | MoE / dense | loop / MoE |',
);
console.log('|---|---|---|---|---|---|---|');
const shares: string[] = [];
for (const [tokens, dim, hidden, experts, k] of shapes) {
  const moe = new MoE({ dim, hidden, experts, topK: k, seed: 1, device: dev });
  const dense = new SwiGLU(dim, k * hidden, { seed: 2, device: dev });
  const x = T.randn([tokens, dim], { seed: 3, device: dev });
  const reps = tokens >= 2048 ? 5 : 9;
  for (const backward of [false, true]) {
    // Forward alone as in inference (eval: no auxiliary losses, no counting); with the backward
    // pass as in training.
    moe.train(backward);
    const [tMoe, tDense, tLoop] = (await measure(
      [
        async () => pass(moe, () => moe.forward(x), backward),
        async () => pass(dense, () => dense.forward(x), backward),
        async () => {
          // The routing stays outside tidy (its graph is needed by the backward pass inside);
          // what it made besides its results is left to the garbage collector.
          const routing = moe.gate.route(x);
          const chosen = await routing.indices.data();
          pass(moe, () => loopOverExperts(moe, x, routing, chosen), backward);
          for (const t of Object.values(routing)) t.dispose();
        },
      ],
      reps,
    )) as [number, number, number];
    console.log(
      `| ${tokens} × ${dim}, ${experts} (${hidden}) top-${k} | ${backward ? 'fwd+bwd' : 'fwd'} | ${tMoe.toFixed(1)} ms | ${tDense.toFixed(1)} ms | ${tLoop.toFixed(1)} ms | ${(tMoe / tDense).toFixed(2)}× | ${(tLoop / tMoe).toFixed(2)}× |`,
    );
  }
  moe.eval();
  const profile = await dev.profile(async () => {
    pass(moe, () => moe.forward(x), false);
    await dev.sync();
  });
  const total = profile.kernelMs;
  const grouped = profile.kernels
    .filter((k) => k.name.startsWith('moe_grouped_matmul'))
    .reduce((s, k) => s + k.totalMs, 0);
  shares.push(
    `${tokens} × ${dim}, ${experts} experts: grouped matmuls ${((100 * grouped) / total).toFixed(0)}% of ${total.toFixed(1)} ms in kernels`,
  );
  moe.dispose();
  dense.dispose();
  x.dispose();
}
console.log(`\nMoE forward (eval), by kernel time (one profiled pass):\n${shares.join('\n')}`);

// The router's choice: one thread per token (selectExperts) against the core's general topk.
console.log('\n| scores [tokens, E], k | selectExperts | topk | topk / selectExperts |');
console.log('|---|---|---|---|');
for (const [tokens, experts, k] of quick
  ? [[512, 8, 2]]
  : [
      [512, 8, 2],
      [2048, 8, 2],
      [2048, 32, 8],
    ]) {
  const scores = T.rand([tokens!, experts!], { seed: 4, device: dev });
  const [tSelect, tTopk] = (await measure(
    [
      async () => T.tidy(() => void selectExperts(scores, k!)),
      async () => T.tidy(() => void T.topk(scores, k!).indices),
    ],
    9,
  )) as [number, number];
  console.log(
    `| [${tokens}, ${experts}], ${k} | ${tSelect.toFixed(2)} ms | ${tTopk.toFixed(2)} ms | ${(tTopk / tSelect).toFixed(1)}× |`,
  );
  scores.dispose();
}
dev.destroy();
process.exit(0);
