/**
 * The wasm backend against its baselines, all measured in this one run (shared machines are
 * noisy, so only ratios within a run mean much): the CPU reference backend, TensorFlow.js's
 * wasm backend (`@tensorflow/tfjs-backend-wasm`, XNNPACK; single-threaded in Node, where tfjs
 * turns its threads off), Tessera on WebGPU (lavapipe on a machine without a GPU), and PyTorch's
 * CPU matmul as a native peer (`/usr/bin/python3` with torch, when there is one) and ONNX Runtime's
 * CPU provider, the native ceiling (when `onnxruntime-node` is installed: `bench/ort.ts`). With a
 * Chromium and playwright-core, also tfjs-wasm with threads against Tessera's wasm backend in a
 * cross-origin isolated page (`browser-wasm.ts`). Contestants alternate in rounds and each keeps
 * its best round, so a loaded moment costs all of them alike.
 *
 *     npm run bench -w @tessera/tensor-webgpu            (this runs after the WebGPU benchmarks)
 *     npx tsx bench/wasm.ts [--quick] [--threads N]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import * as T from '../src/index.js';
import { browserMatmul } from './browser-wasm.js';
import { ortMatmul } from './ort.js';
import { medianSeconds } from './timing.js';

const quick = process.argv.includes('--quick');
const rounds = quick ? 1 : 3;
const threadsArg = process.argv.indexOf('--threads');
const threads =
  threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : Math.min(availableParallelism(), 8);

const time = (fn: () => Promise<unknown>, budget = quick ? 0.5 : 1.5) => medianSeconds(fn, budget);

/** A result that must reach the host to count: a Tessera or a tfjs tensor. */
interface Readable {
  data(): Promise<unknown>;
  dispose(): void;
}

/** `op` with the intermediates Tessera makes freed each time (views keep them alive otherwise). */
const tidied = (op: () => T.Tensor) => () => T.tidy(op);

/** Work per second of `op`, its result read back each time. */
async function rate(work: number, op: () => Readable, budget?: number): Promise<number> {
  return (
    work /
    (await time(async () => {
      const y = op();
      await y.data();
      y.dispose();
    }, budget))
  );
}

/**
 * Each contestant's rate, measured in `rounds` alternating rounds, the best round kept. An
 * undefined contestant is not measured.
 */
async function contest<K extends string>(
  contestants: Record<K, (() => Promise<number>) | undefined>,
): Promise<Record<K, number | undefined>> {
  const best = {} as Record<K, number | undefined>;
  for (let round = 0; round < rounds; round++) {
    for (const [name, measure] of Object.entries(contestants) as [
      K,
      (() => Promise<number>) | undefined,
    ][]) {
      if (!measure) continue;
      best[name] = Math.max(best[name] ?? 0, await measure());
    }
  }
  return best;
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
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  randomNormal(shape: number[]): Readable;
  matMul(a: Readable, b: Readable): Readable;
  add(a: Readable, b: Readable): Readable;
  softmax(x: Readable): Readable;
}
// Variable specifiers: tfjs's typings carry an older @webgpu/types that clashes with ours.
const tfCore = '@tensorflow/tfjs-core';
const tfWasm = '@tensorflow/tfjs-backend-wasm';
const tf = (await import(tfCore)) as TfWasm;
await import(tfWasm);
await tf.setBackend('wasm');
await tf.ready();

console.log(
  `wasm backend: ${wasm.info.adapter}; WebGPU: ${gpu?.info.adapter ?? 'none'}; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${availableParallelism()} cores`,
);

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
while len(ts) < 3 or time.perf_counter() - start < ${quick ? 0.5 : 1.5}:
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

const COLUMNS = ['wasm', 'tfjs', 'reference', 'webgpu', 'torch', 'ort'] as const;
type Column = (typeof COLUMNS)[number];
const rows: { name: string; rates: Partial<Record<Column, number>>; digits: number }[] = [];
const f = (x: number | undefined, digits: number) => (x === undefined ? '—' : x.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}×`;

function row(name: string, rates: Partial<Record<Column, number>>, digits = 1): void {
  rows.push({ name, rates, digits });
  console.log(
    `${name}: ${COLUMNS.filter((c) => rates[c] !== undefined)
      .map((c) => `${c} ${f(rates[c], digits)}`)
      .join(', ')}`,
  );
}

// Matmul GFLOP/s: square, and the tiny preset's training shapes ([B·T, d] @ [d, h], the weight
// gradient [d, B·T] @ [B·T, h], the tied head [B·T, d] @ [d, vocab]).
const shapes: [number, number, number][] = quick
  ? [[1024, 1024, 1024]]
  : [
      [256, 256, 256],
      [1024, 1024, 1024],
      [2048, 48, 128],
      [48, 2048, 128],
      [2048, 48, 384],
    ];
// ONNX Runtime's CPU provider, the native ceiling the issue quotes, where it is installed.
const ort = await ortMatmul(1024, 1024, 1024, threads);
if (!ort)
  console.log(
    'ONNX Runtime comparison skipped: npm install --no-save onnxruntime-node --onnxruntime-node-install=skip to run it',
  );
for (const [m, k, n] of shapes) {
  const gflop = (2 * m * n * k) / 1e9;
  const make = (dev: T.Device) => [
    T.randn([m, k], { device: dev, seed: 1 }),
    T.randn([k, n], { device: dev, seed: 2 }),
  ];
  const [a, b] = make(wasm);
  const [ta, tb] = [tf.randomNormal([m, k]), tf.randomNormal([k, n])];
  const [ga, gb] = gpu ? make(gpu) : [];
  // The reference takes seconds for one large product: measured on the smallest only.
  const [ca, cb] = m * n * k <= 256 ** 3 ? make(cpu) : [];
  const square = m === n && n === k && n === 1024;
  row(
    `matmul [${m}, ${k}] @ [${k}, ${n}] f32 (GFLOP/s)`,
    await contest({
      wasm: () =>
        rate(
          gflop,
          tidied(() => T.matmul(a!, b!)),
        ),
      tfjs: () => rate(gflop, () => tf.matMul(ta, tb)),
      reference:
        ca &&
        (() =>
          rate(
            gflop,
            tidied(() => T.matmul(ca, cb!)),
            0,
          )),
      webgpu:
        ga &&
        (() =>
          rate(
            gflop,
            tidied(() => T.matmul(ga, gb!)),
          )),
      torch: square ? async () => torchMatmul(n) ?? Number.NaN : undefined,
      ort: square && ort ? () => time(ort.run).then((s) => gflop / s) : undefined,
    }),
  );
}

// Bandwidth-bound ops (GB/s of the bytes each must read and write).
{
  const n = 1 << 22;
  const gb = (3 * 4 * n) / 1e9;
  const pair = (dev: T.Device) => [
    T.randn([n], { device: dev, seed: 1 }),
    T.randn([n], { device: dev, seed: 2 }),
  ];
  const [a, b] = pair(wasm);
  const [ca, cb] = pair(cpu);
  const [ta, tb] = [tf.randomNormal([n]), tf.randomNormal([n])];
  row(
    'add, 4M f32 (GB/s)',
    await contest({
      wasm: () =>
        rate(
          gb,
          tidied(() => T.add(a!, b!)),
        ),
      tfjs: () => rate(gb, () => tf.add(ta, tb)),
      reference: () =>
        rate(
          gb,
          tidied(() => T.add(ca!, cb!)),
          0.5,
        ),
    }),
  );
}
{
  const [r, c] = [256, 8192];
  const gb = (2 * 4 * r * c) / 1e9;
  const x = T.randn([r, c], { device: wasm, seed: 1 });
  const cx = T.randn([r, c], { device: cpu, seed: 1 });
  const tx = tf.randomNormal([r, c]);
  row(
    'softmax, 256 × 8192 (GB/s)',
    await contest({
      wasm: () =>
        rate(
          gb,
          tidied(() => T.softmax(x)),
        ),
      tfjs: () => rate(gb, () => tf.softmax(tx)),
      reference: () =>
        rate(
          gb,
          tidied(() => T.softmax(cx)),
          0.5,
        ),
    }),
    2,
  );
}
// The tiny preset's loss: cross-entropy forward and backward over [2048, 384] logits.
{
  const step = (dev: T.Device) => {
    const logits = T.randn([2048, 384], { device: dev, seed: 1 });
    logits.requiresGrad = true;
    const targets = T.randint(0, 384, [2048], { device: dev, seed: 2 });
    return () => {
      T.crossEntropy(logits, targets).backward();
      const g = logits.grad!;
      logits.grad = null;
      return g;
    };
  };
  const [ours, reference] = [step(wasm), step(cpu)];
  row(
    'crossEntropy [2048, 384], forward + backward (calls/s)',
    await contest({
      wasm: () => rate(1, tidied(ours)),
      reference: () => rate(1, tidied(reference), 0.5),
    }),
    0,
  );
}
// Per-op overhead: a chain of 500 tiny adds, read back once.
{
  const chain = 500;
  const chainOf = (dev: T.Device) => {
    const x = T.ones([16], { device: dev });
    return () =>
      T.tidy(() => {
        let y = x;
        for (let i = 0; i < chain; i++) y = T.add(y, 1);
        return y;
      });
  };
  const [ours, reference] = [chainOf(wasm), chainOf(cpu)];
  row(
    'tiny ops: 500 chained adds on 16 elements (ops/s)',
    await contest({ wasm: () => rate(chain, ours), reference: () => rate(chain, reference) }),
    0,
  );
}

// tfjs-wasm with threads exists only in a browser (cross-origin isolated).
const browser = await browserMatmul(1024, threads, quick, rounds);
if (browser) {
  console.log(
    `in Chromium, Tessera's product differs from tfjs's by ${browser.worst.toExponential(1)} at most`,
  );
  row(
    `matmul 1024³ f32 in Chromium, tfjs on ${browser.tfjsThreads} thread${browser.tfjsThreads === 1 ? '' : 's'} by its own count (GFLOP/s)`,
    { wasm: browser.tessera, tfjs: browser.tfjs },
  );
}

console.log(
  `\n| benchmark (wasm on ${threads} threads, best of ${rounds}) | Tessera wasm | tfjs-wasm | CPU reference | Tessera WebGPU | PyTorch CPU | ONNX Runtime CPU | wasm / tfjs | wasm / reference | wasm / WebGPU | wasm / PyTorch | wasm / ORT |\n|---|---|---|---|---|---|---|---|---|---|---|---|`,
);
for (const { name, rates: r, digits } of rows) {
  const figures = COLUMNS.map((c) => f(r[c], c === 'reference' ? Math.max(digits, 2) : digits));
  const ratios = [r.tfjs, r.reference, r.webgpu, r.torch, r.ort].map((x) => ratio(r.wasm, x));
  console.log(`| ${name} | ${[...figures, ...ratios].join(' | ')} |`);
}
console.log(
  'tfjs-wasm runs on one thread in Node (tfjs turns its threads off there); the Chromium row has its threaded build.',
);
wasm.destroy();
gpu?.destroy();
process.exit(0);
