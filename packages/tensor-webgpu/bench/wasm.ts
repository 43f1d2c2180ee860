/**
 * The wasm backend against its baselines, all measured in this one run (shared machines are
 * noisy, so only ratios within a run mean much): the CPU reference backend, TensorFlow.js's
 * wasm backend (`@tensorflow/tfjs-backend-wasm`, XNNPACK; single-threaded in Node, where tfjs
 * turns its threads off), Tessera on WebGPU (lavapipe on a machine without a GPU), and PyTorch's
 * CPU matmul as the native ceiling (`/usr/bin/python3` with torch, when there is one). With a
 * Chromium and playwright-core, also tfjs-wasm with threads against Tessera's wasm backend in a
 * cross-origin isolated page (`browser-wasm.ts`).
 *
 *     npm run bench -w @tessera/tensor-webgpu            (this runs after the WebGPU benchmarks)
 *     npx tsx bench/wasm.ts [--quick] [--threads N]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import * as T from '../src/index.js';
import { browserMatmul } from './browser-wasm.js';

const quick = process.argv.includes('--quick');
const threadsArg = process.argv.indexOf('--threads');
const threads =
  threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : Math.min(availableParallelism(), 8);

/** Median seconds of `fn` (which returns when its result is on the host), after one warm-up. */
async function time(fn: () => Promise<unknown>, budget = quick ? 0.5 : 2): Promise<number> {
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

const wasm = await T.createDevice({ backend: 'wasm', threads });
const cpu = await T.createDevice({ backend: 'cpu' });
let gpu: T.Device | undefined;
try {
  gpu = await T.createDevice({ backend: 'webgpu' });
} catch (e) {
  console.log(`WebGPU comparison skipped: ${(e as Error).message.split('. ')[0]}`);
}

interface TfWasm {
  randomNormal(shape: number[]): { dispose(): void; data(): Promise<unknown> };
  matMul(a: unknown, b: unknown): { dispose(): void; data(): Promise<unknown> };
  add(a: unknown, b: unknown): { dispose(): void; data(): Promise<unknown> };
  softmax(x: unknown): { dispose(): void; data(): Promise<unknown> };
}
// Variable specifiers: tfjs's typings are not part of this package's build.
const tfCore = '@tensorflow/tfjs-core';
const tfWasm = '@tensorflow/tfjs-backend-wasm';
const tf = (await import(tfCore)) as TfWasm & {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
};
await import(tfWasm);
await tf.setBackend('wasm');
await tf.ready();

console.log(
  `wasm backend: ${wasm.info.adapter}; WebGPU: ${gpu?.info.adapter ?? 'none'}; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${availableParallelism()} cores`,
);

const rows: string[][] = [];
const row = (...cells: string[]) => {
  rows.push(cells);
  console.log(cells.join('  |  '));
};
const f = (x: number | undefined, digits = 1) =>
  x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits);
const ratio = (a: number, b: number | undefined) =>
  b === undefined || Number.isNaN(b) ? '—' : `${(a / b).toFixed(2)}×`;

/** Work per second of an op on a Tessera device, read back each time. */
async function tessera(work: number, op: () => T.Tensor, budget?: number) {
  return (
    work /
    (await time(async () => {
      const y = op();
      await y.data();
      y.dispose();
    }, budget))
  );
}
async function tfjs(work: number, op: () => { dispose(): void; data(): Promise<unknown> }) {
  return (
    work /
    (await time(async () => {
      const y = op();
      await y.data();
      y.dispose();
    }))
  );
}

/** PyTorch's CPU matmul GFLOP/s on `threads` threads, or undefined without torch. */
function torchMatmul(n: number): number | undefined {
  if (!existsSync('/usr/bin/python3')) return undefined;
  const script = `
import time, torch
torch.set_num_threads(${threads})
a, b = torch.randn(${n}, ${n}), torch.randn(${n}, ${n})
a @ b
ts = []
start = time.perf_counter()
while len(ts) < 3 or time.perf_counter() - start < ${quick ? 0.5 : 2}:
    t0 = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t0)
ts.sort()
print(2 * ${n} ** 3 / ts[len(ts) // 2] / 1e9)
`;
  try {
    return Number(execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' }).trim());
  } catch {
    console.log('PyTorch comparison skipped (no /usr/bin/python3 with torch)');
    return undefined;
  }
}

// Matmul GFLOP/s, square and the tiny preset's training shapes ([B·T, d] @ [d, h] and the
// weight gradient [d, B·T] @ [B·T, h]).
const shapes: [number, number, number][] = quick
  ? [[1024, 1024, 1024]]
  : [
      [256, 256, 256],
      [1024, 1024, 1024],
      [2048, 48, 128],
      [48, 2048, 128],
      [2048, 48, 384],
    ];
for (const [m, k, n] of shapes) {
  const gflop = (2 * m * n * k) / 1e9;
  const make = (dev: T.Device) => [
    T.randn([m, k], { device: dev, seed: 1 }),
    T.randn([k, n], { device: dev, seed: 2 }),
  ];
  const [a, b] = make(wasm);
  const ours = await tessera(gflop, () => T.matmul(a!, b!));
  const [ta, tb] = [tf.randomNormal([m, k]), tf.randomNormal([k, n])];
  const theirs = await tfjs(gflop, () => tf.matMul(ta, tb));
  let lavapipe: number | undefined;
  if (gpu) {
    const [ga, gb] = make(gpu);
    lavapipe = await tessera(gflop, () => T.matmul(ga!, gb!));
  }
  // The reference takes seconds for one large product: measured on the smallest only.
  let reference: number | undefined;
  if (m * n * k <= 256 ** 3) {
    const [ca, cb] = make(cpu);
    reference = await tessera(gflop, () => T.matmul(ca!, cb!), 0);
  }
  const torch = m === n && n === k && n === 1024 ? torchMatmul(n) : undefined;
  row(
    `matmul [${m}, ${k}] @ [${k}, ${n}] (GFLOP/s)`,
    `wasm ${f(ours)}`,
    `tfjs-wasm (1 thread) ${f(theirs)}`,
    `reference ${f(reference, 2)}`,
    `WebGPU ${f(lavapipe)}`,
    `PyTorch ${f(torch)}`,
    `wasm/tfjs ${ratio(ours, theirs)}`,
    `wasm/reference ${ratio(ours, reference)}`,
    `wasm/WebGPU ${ratio(ours, lavapipe)}`,
    `wasm/PyTorch ${ratio(ours, torch)}`,
  );
}

// Bandwidth-bound ops (GB/s of the bytes each must read and write).
{
  const n = 1 << 22;
  const gb = (3 * 4 * n) / 1e9;
  const [a, b] = [T.randn([n], { device: wasm, seed: 1 }), T.randn([n], { device: wasm, seed: 2 })];
  const [ca, cb] = [T.randn([n], { device: cpu, seed: 1 }), T.randn([n], { device: cpu, seed: 2 })];
  const [ta, tb] = [tf.randomNormal([n]), tf.randomNormal([n])];
  const ours = await tessera(gb, () => T.add(a, b));
  const theirs = await tfjs(gb, () => tf.add(ta, tb));
  const reference = await tessera(gb, () => T.add(ca, cb), quick ? 0.5 : 1);
  row(
    'add 4M f32 (GB/s)',
    `wasm ${f(ours)}`,
    `tfjs-wasm (1 thread) ${f(theirs)}`,
    `reference ${f(reference, 2)}`,
    '',
    '',
    `wasm/tfjs ${ratio(ours, theirs)}`,
    `wasm/reference ${ratio(ours, reference)}`,
    '',
    '',
  );
}
{
  const [r, c] = [256, 8192];
  const gb = (2 * 4 * r * c) / 1e9;
  const x = T.randn([r, c], { device: wasm, seed: 1 });
  const cx = T.randn([r, c], { device: cpu, seed: 1 });
  const tx = tf.randomNormal([r, c]);
  const ours = await tessera(gb, () => T.softmax(x));
  const theirs = await tfjs(gb, () => tf.softmax(tx));
  const reference = await tessera(gb, () => T.softmax(cx), quick ? 0.5 : 1);
  row(
    'softmax 256×8192 (GB/s)',
    `wasm ${f(ours)}`,
    `tfjs-wasm (1 thread) ${f(theirs)}`,
    `reference ${f(reference, 2)}`,
    '',
    '',
    `wasm/tfjs ${ratio(ours, theirs)}`,
    `wasm/reference ${ratio(ours, reference)}`,
    '',
    '',
  );
}
// The tiny preset's loss: cross-entropy forward and backward over [2048, 384] logits.
{
  const run = (dev: T.Device) => {
    const logits = T.randn([2048, 384], { device: dev, seed: 1 });
    logits.requiresGrad = true;
    const targets = T.randint(0, 384, [2048], { device: dev, seed: 2 });
    return () => {
      const loss = T.crossEntropy(logits, targets);
      loss.backward();
      const g = logits.grad!;
      logits.grad = null;
      loss.dispose();
      return g;
    };
  };
  const ours = await tessera(1, run(wasm));
  const reference = await tessera(1, run(cpu), quick ? 0.5 : 1);
  row(
    'crossEntropy [2048, 384] forward + backward (calls/s)',
    `wasm ${f(ours, 0)}`,
    '',
    `reference ${f(reference, 0)}`,
    '',
    '',
    '',
    `wasm/reference ${ratio(ours, reference)}`,
    '',
    '',
  );
}
// Dispatch overhead: a chain of 500 tiny adds, read back once.
{
  const chain = 500;
  const x = T.ones([16], { device: wasm });
  const cx = T.ones([16], { device: cpu });
  const chainOf = (start: T.Tensor) => () =>
    T.tidy(() => {
      let y = start;
      for (let i = 0; i < chain; i++) y = T.add(y, 1);
      return y;
    });
  const ours = await tessera(chain, chainOf(x));
  const reference = await tessera(chain, chainOf(cx));
  row(
    'tiny ops (ops/s)',
    `wasm ${f(ours, 0)}`,
    '',
    `reference ${f(reference, 0)}`,
    '',
    '',
    '',
    `wasm/reference ${ratio(ours, reference)}`,
    '',
    '',
  );
}

// tfjs-wasm with threads exists only in a browser (cross-origin isolated).
const browser = await browserMatmul(1024, threads, quick);
if (browser) {
  console.log(
    `in Chromium, Tessera's product differs from tfjs's by ${browser.worst.toExponential(1)} at most`,
  );
  row(
    `matmul [1024, 1024] @ [1024, 1024] in Chromium, tfjs on ${browser.tfjsThreads} thread${browser.tfjsThreads === 1 ? '' : 's'} by its own count (GFLOP/s)`,
    `wasm ${f(browser.tessera)}`,
    `tfjs-wasm (${browser.tfjsThreads} thread${browser.tfjsThreads === 1 ? '' : 's'}) ${f(browser.tfjs)}`,
    '',
    '',
    '',
    `wasm/tfjs ${ratio(browser.tessera, browser.tfjs)}`,
    '',
    '',
    '',
  );
}

console.log(
  `\n| benchmark (wasm on ${threads} threads) | Tessera wasm | tfjs-wasm | CPU reference | Tessera WebGPU | PyTorch CPU | wasm / tfjs | wasm / reference | wasm / WebGPU | wasm / PyTorch |\n|---|---|---|---|---|---|---|---|---|---|`,
);
console.log(
  'tfjs-wasm runs on one thread in Node (tfjs turns its threads off there); the Chromium row has its threaded build.',
);
// In the table each cell keeps its figure alone (the console lines above name them).
for (const [name, ...cells] of rows)
  console.log(`| ${name} | ${cells.map((c) => c.split(' ').at(-1)).join(' | ')} |`);
wasm.destroy();
gpu?.destroy();
process.exit(0);
