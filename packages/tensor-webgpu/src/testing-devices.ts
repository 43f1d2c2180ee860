import { createDevice, type Device } from './device.js';

/**
 * The devices a test suite runs on: WebGPU, wasm and the CPU reference. WebGPU and wasm are
 * required — a missing adapter fails the suite (CI installs lavapipe) — unless the run explicitly
 * opts out with TESSERA_TEST_BACKENDS (a comma-separated list, e.g. `wasm,cpu`), which CI never
 * sets. `underTest` lists the devices whose kernels are checked against the CPU reference.
 */
export async function testDevices(): Promise<{
  gpu: Device | undefined;
  wasm: Device | undefined;
  cpu: Device;
  underTest: Device[];
  all: Device[];
}> {
  const wanted = (process.env.TESSERA_TEST_BACKENDS ?? 'webgpu,wasm,cpu').split(',');
  if (process.env.CI === 'true' && !(wanted.includes('webgpu') && wanted.includes('wasm'))) {
    throw new Error('CI=true: the WebGPU and wasm tests must run; unset TESSERA_TEST_BACKENDS');
  }
  const cpu = await createDevice({ backend: 'cpu' });
  const gpu = wanted.includes('webgpu') ? await createDevice({ backend: 'webgpu' }) : undefined;
  // Two threads, so the parallel paths run even on a one-core machine.
  const wasm = wanted.includes('wasm')
    ? await createDevice({ backend: 'wasm', threads: 2 })
    : undefined;
  if (gpu)
    console.log(
      `tessera tests: WebGPU adapter "${gpu.info.adapter}" (${gpu.info.vendor || 'unknown vendor'})`,
    );
  const underTest = [gpu, wasm].filter((d): d is Device => d !== undefined);
  return { gpu, wasm, cpu, underTest, all: [...underTest, cpu] };
}
/** Largest |a - b| relative to max(1, |b|) over two arrays of equal length. */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    worst = Math.max(worst, Math.abs(x - y) / Math.max(1, Math.abs(y)));
  }
  return worst;
}
