/**
 * The page `browser-wasm.ts` loads in Chromium: Tessera's wasm backend and tfjs-wasm with threads
 * multiplying the same square matrices, each timed to its result on the host.
 */
import * as T from '../../src/index.js';
import { medianSeconds as median } from '../timing.js';
import { getThreadsCount, setThreadsCount, setWasmPaths, tf } from './tfjs.js';

/**
 * GFLOP/s of an n³ matmul: Tessera's wasm backend and tfjs-wasm, both on `threads` threads, in
 * alternating rounds, the best of each.
 */
async function bench(n: number, threads: number, budget: number, rounds: number) {
  const gflop = (2 * n ** 3) / 1e9;
  const dev = await T.createDevice({ backend: 'wasm', threads });
  const a = T.randn([n, n], { device: dev, seed: 1 });
  const b = T.randn([n, n], { device: dev, seed: 2 });
  // The wasm files are served beside the page; threads need cross-origin isolation.
  setWasmPaths('/tfjs/');
  // tfjs-wasm caps its pool at half of hardwareConcurrency (1 thread on a 2-core machine, even
  // after setThreadsCount): report enough cores that it runs the `threads` asked for.
  Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => 2 * threads });
  setThreadsCount(threads);
  await tf.setBackend('wasm');
  await tf.ready();
  const [ta, tb] = [tf.randomNormal([n, n]), tf.randomNormal([n, n])];
  let tessera = 0;
  let tfjs = 0;
  for (let round = 0; round < rounds; round++) {
    tessera = Math.max(tessera, gflop / (await median(async () => T.matmul(a, b).data(), budget)));
    tfjs = Math.max(tfjs, gflop / (await median(async () => tf.matMul(ta, tb).data(), budget)));
  }
  // Tessera's result checked against tfjs's on the same inputs.
  const x = T.tensor(await ta.data(), { device: dev, shape: [n, n] });
  const y = T.tensor(await tb.data(), { device: dev, shape: [n, n] });
  const [ours, theirs] = [await T.matmul(x, y).data(), await tf.matMul(ta, tb).data()];
  let worst = 0;
  for (let i = 0; i < ours.length; i++)
    worst = Math.max(worst, Math.abs(ours[i]! - theirs[i]!) / Math.max(1, Math.abs(theirs[i]!)));
  return {
    tessera,
    tfjs,
    adapter: dev.info.adapter,
    tfjsThreads: getThreadsCount(),
    isolated: crossOriginIsolated,
    worst,
  };
}

(globalThis as { bench?: typeof bench }).bench = bench;
