import { createDevice, type Device } from './device.js';

/**
 * The devices a test suite runs on: WebGPU and the CPU reference. WebGPU is required — a
 * missing adapter fails the suite (CI installs lavapipe) — unless the run explicitly opts out
 * with TESSERA_TEST_BACKENDS=cpu, which CI never sets.
 */
export async function testDevices(): Promise<{
  gpu: Device | undefined;
  cpu: Device;
  all: Device[];
}> {
  const wanted = (process.env.TESSERA_TEST_BACKENDS ?? 'webgpu,cpu').split(',');
  if (process.env.CI === 'true' && !wanted.includes('webgpu')) {
    throw new Error('CI=true: the WebGPU tests must run; unset TESSERA_TEST_BACKENDS');
  }
  const cpu = await createDevice({ backend: 'cpu' });
  const gpu = wanted.includes('webgpu') ? await createDevice({ backend: 'webgpu' }) : undefined;
  if (gpu)
    console.log(
      `tessera tests: WebGPU adapter "${gpu.info.adapter}" (${gpu.info.vendor || 'unknown vendor'})`,
    );
  return { gpu, cpu, all: gpu ? [gpu, cpu] : [cpu] };
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
