/**
 * The browser smoke test's page: what `createDevice({ backend: 'auto' })` gives, and the wasm
 * backend's kernels against the CPU reference in the same page, at sizes that use every thread.
 */
import * as T from '../../src/index.js';
import { maxRelError } from '../../src/testing-devices.js';

async function smoke() {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.join(' '));
  const auto = await T.createDevice();
  console.warn = warn;
  const result: Record<string, unknown> = {
    isolated: crossOriginIsolated,
    auto: auto.info.backend,
    warnings,
  };
  if (!crossOriginIsolated) return result;
  const wasm = await T.createDevice({ backend: 'wasm', threads: 2 });
  const cpu = await T.createDevice({ backend: 'cpu' });
  const run = async (dev: T.Device) => {
    const a = T.randn([300, 257], { device: dev, seed: 1, requiresGrad: true });
    const b = T.randn([257, 190], { device: dev, seed: 2 });
    const targets = T.randint(0, 190, [300], { device: dev, seed: 3 });
    const logits = T.matmul(T.layerNorm(a), b);
    const loss = T.crossEntropy(T.gelu(logits), targets);
    loss.backward();
    return [await logits.data(), await T.softmax(logits).data(), await a.grad!.data()];
  };
  const [got, want] = [await run(wasm), await run(cpu)];
  result.adapter = wasm.info.adapter;
  result.errors = got.map((g, i) => maxRelError(g, want[i]!));
  const profile = await wasm.profile(() =>
    T.matmul(T.ones([256, 256], { device: wasm }), T.ones([256, 256], { device: wasm })),
  );
  result.kernels = profile.kernels.map((k) => k.name);
  return result;
}

(globalThis as { smoke?: typeof smoke }).smoke = smoke;
