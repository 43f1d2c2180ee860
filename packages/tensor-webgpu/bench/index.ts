/**
 * Benchmarks of the tensor core, printed as a table: `npm run bench -w @tessera/tensor-webgpu`.
 * Every figure is compared with a baseline measured in the same run (the naive kernel, or
 * TensorFlow.js's WebGPU backend on the same Dawn adapter), because shared machines are noisy.
 */
import * as T from '../src/index.js';
import { uncheckedEmbedding } from './gather-unchecked.js';
import { naiveMatmul } from './matmul-kernels.js';
import { loadTfjs } from './peer.js';
import { medianSeconds } from './timing.js';

const quick = process.argv.includes('--quick');

const time = (fn: () => Promise<unknown>, budget = quick ? 0.5 : 2) => medianSeconds(fn, budget);

// Without an adapter these benchmarks have nothing to measure; bench/wasm.ts (run next) still does.
const dev = await T.createDevice({ backend: 'webgpu' }).catch((e: unknown) => {
  if (!(e instanceof T.NoAdapterError)) throw e;
  console.log(`WebGPU benchmarks not run: ${e.message}`);
  process.exit(0);
});
const { requestGpuDevice } = await import('../src/gpu-adapter.js');
const { gpu } = await requestGpuDevice();
const peer = await loadTfjs(gpu);
const tf = peer.tf;
console.log(`adapter: ${dev.info.adapter} (software: ${dev.info.software})`);

const rows: string[][] = [];
const row = (...cells: string[]) => {
  rows.push(cells);
  console.log(cells.join('  |  '));
};
const fmt = (x: number) => x.toFixed(2);

/** Work per second: `work` over the median time of `run` followed by `sync` (waiting for the GPU). */
async function rate(
  work: number,
  sync: () => Promise<void>,
  run: () => void,
  budget?: number,
): Promise<number> {
  return (
    work /
    (await time(async () => {
      run();
      await sync();
    }, budget))
  );
}
const core = (work: number, run: () => void, budget?: number) =>
  rate(work, () => dev.sync(), run, budget);
const tfjs = (work: number, run: () => void) => rate(work, () => peer.sync(), run);

/** A table row of Tessera against tfjs-webgpu, and against the naive kernel when given. */
function compare(name: string, ours: number, theirs: number, digits = 2, naive?: number): void {
  const f = (x: number) => x.toFixed(digits);
  const withNaive = naive !== undefined;
  row(
    name,
    `core ${f(ours)}`,
    withNaive ? `naive ${fmt(naive)}` : '',
    `tfjs-webgpu ${f(theirs)}`,
    withNaive ? `core/naive ${fmt(ours / naive)}×` : '',
    `core/tfjs ${fmt(ours / theirs)}×`,
  );
}

// Matmul GFLOP/s.
for (const n of quick ? [256, 1024] : [256, 512, 1024, 2048]) {
  const a = T.randn([n, n], { seed: 1 });
  const b = T.randn([n, n], { seed: 2 });
  const ta = tf.randomNormal([n, n]);
  const tb = tf.randomNormal([n, n]);
  const gflop = (2 * n ** 3) / 1e9;
  const naive =
    n > 1024 && quick ? Number.NaN : await core(gflop, () => naiveMatmul(a, b).dispose(), 0);
  compare(
    `matmul ${n}³ f32 (GFLOP/s)`,
    await core(gflop, () => T.matmul(a, b).dispose()),
    await tfjs(gflop, () => tf.matMul(ta, tb).dispose()),
    2,
    naive,
  );
  for (const t of [a, b, ta, tb]) t.dispose();
}

// Elementwise add bandwidth: reads two arrays, writes one.
{
  const n = 1 << 22;
  const a = T.randn([n], { seed: 1 });
  const b = T.randn([n], { seed: 2 });
  const ta = tf.randomNormal([n]);
  const tb = tf.randomNormal([n]);
  const gb = (3 * 4 * n) / 1e9;
  compare(
    `add 4M f32 (GB/s)`,
    await core(gb, () => T.add(a, b).dispose()),
    await tfjs(gb, () => tf.add(ta, tb).dispose()),
  );
}

// Softmax bandwidth over rows of a vocabulary-sized last dimension: reads once, writes once.
{
  const [r, c] = [256, 8192];
  const x = T.randn([r, c], { seed: 1 });
  const tx = tf.randomNormal([r, c]);
  const gb = (2 * 4 * r * c) / 1e9;
  compare(
    `softmax 256×8192 (GB/s)`,
    await core(gb, () => T.softmax(x).dispose()),
    await tfjs(gb, () => tf.softmax(tx).dispose()),
  );
}

// Dispatch overhead: a chain of 500 tiny adds, submitted and awaited once.
{
  const chain = 500;
  const x = T.ones([16]);
  const tx = tf.ones([16]);
  compare(
    `tiny ops (ops/s)`,
    await core(chain, () =>
      T.tidy(() => {
        let y = x;
        for (let i = 0; i < chain; i++) y = T.add(y, 1);
      }),
    ),
    await tfjs(chain, () =>
      tf.tidy(() => {
        let y = tx;
        for (let i = 0; i < chain; i++) y = tf.add(y, 1);
      }),
    ),
    0,
  );
}

// The device-side index check: an embedding lookup read back each step, with the check (as
// shipped) against the same gather kernel without it. Steps alternate between the two, so drift
// on a shared machine hits both alike; medians of each. The ratio is the cost.
for (const [vocab, dim, n] of [
  [8192, 256, 4096],
  [512, 64, 64],
] as const) {
  const w = T.randn([vocab, dim], { seed: 1 });
  const ids = T.randint(0, vocab, [n], { seed: 2 });
  const step = async (lookup: (w: T.Tensor, ids: T.Tensor) => T.Tensor) => {
    const t0 = performance.now();
    const y = lookup(w, ids);
    await y.data();
    y.dispose();
    return performance.now() - t0;
  };
  const checked: number[] = [];
  const unchecked: number[] = [];
  await step(T.embedding);
  await step(uncheckedEmbedding);
  const start = performance.now();
  while (
    checked.length < 5 ||
    (performance.now() - start < (quick ? 2000 : 6000) && checked.length < 200)
  ) {
    checked.push(await step(T.embedding));
    unchecked.push(await step(uncheckedEmbedding));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const [c, u] = [1000 / median(checked), 1000 / median(unchecked)];
  row(
    `embedding ${n} ids of [${vocab}, ${dim}] + read (steps/s)`,
    `checked ${c.toFixed(0)}`,
    `unchecked ${u.toFixed(0)}`,
    '',
    `checked/unchecked ${(c / u).toFixed(2)}×`,
    '',
  );
}

// Memory: buffers and bytes a training step allocates after warm-up (target: none).
{
  const w1 = T.randn([256, 512], { seed: 1, requiresGrad: true });
  const w2 = T.randn([512, 64], { seed: 2, requiresGrad: true });
  const x = T.randn([64, 256], { seed: 3 });
  const target = T.tensor(Int32Array.from({ length: 64 }, (_, i) => i % 64));
  const step = async () => {
    const loss = T.tidy(() => {
      const l = T.crossEntropy(T.matmul(T.gelu(T.matmul(x, w1)), w2), target);
      l.backward();
      T.noGrad(() => {
        for (const w of [w1, w2]) {
          w.copy_(T.sub(w, T.mul(w.grad!, 0.01)));
          w.grad!.dispose();
          w.grad = null;
        }
      });
      return l;
    });
    await loss.item();
    loss.dispose();
  };
  await step();
  const warm = dev.memory();
  const steps = 10;
  for (let i = 0; i < steps; i++) await step();
  const after = dev.memory();
  row(
    `training step (2-layer MLP)`,
    `new buffers/step ${(after.buffersCreated - warm.buffersCreated) / steps}`,
    `new pipelines/step ${(after.pipelinesCompiled - warm.pipelinesCompiled) / steps}`,
    `live bytes Δ ${after.liveBytes - warm.liveBytes}`,
    `pool ${(after.pooledBytes / 2 ** 20).toFixed(1)} MiB`,
    '',
  );
}

console.log(
  '\n| benchmark | Tessera | naive / other | tfjs-webgpu | ratio | ratio |\n|---|---|---|---|---|---|',
);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
dev.destroy();
process.exit(0);
