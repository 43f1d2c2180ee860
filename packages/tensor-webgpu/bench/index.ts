/**
 * Benchmarks of the tensor core, printed as a table: `npm run bench -w @tessera/tensor-webgpu`.
 * Every figure is compared with a baseline measured in the same run (the naive kernel, or
 * TensorFlow.js's WebGPU backend on the same Dawn adapter), because shared machines are noisy.
 */
import * as T from '../src/index.js';
import { naiveMatmul } from './matmul-kernels.js';
import { loadTfjs } from './peer.js';

const quick = process.argv.includes('--quick');

/** Median seconds of `fn` (which must wait for the GPU), after one warm-up call. */
async function time(fn: () => Promise<void>, budget = quick ? 0.5 : 2): Promise<number> {
  await fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 3 || (performance.now() - start) / 1000 < budget) {
    const t0 = performance.now();
    await fn();
    samples.push((performance.now() - t0) / 1000);
    if (samples.length >= 50) break;
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const dev = await T.createDevice({ backend: 'webgpu' });
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

// Matmul GFLOP/s.
for (const n of quick ? [256, 1024] : [256, 512, 1024, 2048]) {
  const a = T.randn([n, n], { seed: 1 });
  const b = T.randn([n, n], { seed: 2 });
  const ta = tf.randomNormal([n, n]);
  const tb = tf.randomNormal([n, n]);
  const flops = 2 * n ** 3;
  const core =
    flops /
    (await time(async () => {
      T.matmul(a, b).dispose();
      await dev.sync();
    })) /
    1e9;
  const naive =
    n > 1024 && quick
      ? Number.NaN
      : flops /
        (await time(async () => {
          naiveMatmul(a, b).dispose();
          await dev.sync();
        }, 0)) /
        1e9;
  const peerRate =
    flops /
    (await time(async () => {
      tf.matMul(ta, tb).dispose();
      await peer.sync();
    })) /
    1e9;
  row(
    `matmul ${n}³ f32 (GFLOP/s)`,
    `core ${fmt(core)}`,
    `naive ${fmt(naive)}`,
    `tfjs-webgpu ${fmt(peerRate)}`,
    `core/naive ${fmt(core / naive)}×`,
    `core/tfjs ${fmt(core / peerRate)}×`,
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
  const bytes = 3 * 4 * n;
  const core =
    bytes /
    (await time(async () => {
      T.add(a, b).dispose();
      await dev.sync();
    })) /
    1e9;
  const peerRate =
    bytes /
    (await time(async () => {
      tf.add(ta, tb).dispose();
      await peer.sync();
    })) /
    1e9;
  row(
    `add 4M f32 (GB/s)`,
    `core ${fmt(core)}`,
    '',
    `tfjs-webgpu ${fmt(peerRate)}`,
    '',
    `core/tfjs ${fmt(core / peerRate)}×`,
  );
}

// Softmax bandwidth over rows of a vocabulary-sized last dimension: reads once, writes once.
{
  const [r, c] = [256, 8192];
  const x = T.randn([r, c], { seed: 1 });
  const tx = tf.randomNormal([r, c]);
  const bytes = 2 * 4 * r * c;
  const core =
    bytes /
    (await time(async () => {
      T.softmax(x).dispose();
      await dev.sync();
    })) /
    1e9;
  const peerRate =
    bytes /
    (await time(async () => {
      tf.softmax(tx).dispose();
      await peer.sync();
    })) /
    1e9;
  row(
    `softmax 256×8192 (GB/s)`,
    `core ${fmt(core)}`,
    '',
    `tfjs-webgpu ${fmt(peerRate)}`,
    '',
    `core/tfjs ${fmt(core / peerRate)}×`,
  );
}

// Dispatch overhead: a chain of 500 tiny adds, submitted and awaited once.
{
  const chain = 500;
  const x = T.ones([16]);
  const tx = tf.ones([16]);
  const core =
    chain /
    (await time(async () => {
      T.tidy(() => {
        let y = x;
        for (let i = 0; i < chain; i++) y = T.add(y, 1);
      });
      await dev.sync();
    }));
  const peerRate =
    chain /
    (await time(async () => {
      tf.tidy(() => {
        let y = tx;
        for (let i = 0; i < chain; i++) y = tf.add(y, 1);
      });
      await peer.sync();
    }));
  row(
    `tiny ops (ops/s)`,
    `core ${core.toFixed(0)}`,
    '',
    `tfjs-webgpu ${peerRate.toFixed(0)}`,
    '',
    `core/tfjs ${fmt(core / peerRate)}×`,
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
