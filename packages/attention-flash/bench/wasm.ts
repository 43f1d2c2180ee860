/**
 * Flash attention on the wasm backend against the CPU reference, forward + backward, in
 * alternating rounds of one run (each keeps its best: the machine may be shared):
 * `npx tsx bench/wasm.ts` (`npm run bench` runs it after the WebGPU benchmark).
 * Shapes: the tiny preset's attention layer (batch 32, 4 heads, 2 KV heads, 64 positions,
 * headDim 12, causal) and one long causal head (1024 positions, headDim 64).
 */
import * as T from '@tessera/tensor-webgpu';
import { attention } from '../src/index.js';

const wasm = await T.createDevice({ backend: 'wasm' });
const cpu = await T.createDevice({ backend: 'cpu' });
const rounds = 3;

/** Milliseconds of one forward + backward pass on `dev`. */
function pass(dev: T.Device, [b, h, hkv, s, d]: number[]): number {
  return T.tidy(() => {
    const q = T.randn([b!, h!, s!, d!], { device: dev, seed: 1, requiresGrad: true });
    const k = T.randn([b!, hkv!, s!, d!], { device: dev, seed: 2, requiresGrad: true });
    const v = T.randn([b!, hkv!, s!, d!], { device: dev, seed: 3, requiresGrad: true });
    const t0 = performance.now();
    T.sum(attention(q, k, v, { causal: true })).backward();
    return performance.now() - t0;
  });
}

console.log(`${wasm.info.adapter} against the CPU reference, best of ${rounds} rounds\n`);
console.log(
  '| shape [batch, heads, kvHeads, seq, headDim] | wasm fwd+bwd | CPU reference | wasm / reference |',
);
console.log('|---|---|---|---|');
for (const shape of [
  [32, 4, 2, 64, 12],
  [1, 1, 1, 1024, 64],
]) {
  pass(wasm, shape); // warm-up: instantiates the module on every thread
  let [w, c] = [Infinity, Infinity];
  for (let round = 0; round < rounds; round++) {
    w = Math.min(w, pass(wasm, shape));
    c = Math.min(c, pass(cpu, shape));
  }
  console.log(
    `| [${shape.join(', ')}] | ${w.toFixed(1)} ms | ${c.toFixed(1)} ms | ${(c / w).toFixed(1)}× |`,
  );
}
wasm.destroy();
