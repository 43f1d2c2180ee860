import { spawnSync } from 'node:child_process';
import { createDevice, NoAdapterError, tensor } from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all } = await testDevices();

describe('createDevice', () => {
  it('rejects an unknown backend naming the value', async () => {
    await expect(createDevice({ backend: 'metal' as never })).rejects.toThrow(
      /backend must be 'auto', 'webgpu', 'wasm' or 'cpu', got "metal"/,
    );
  });

  it('gives a CPU device on request', async () => {
    const dev = await createDevice({ backend: 'cpu' });
    expect(dev.backend).toBe('cpu');
    expect(await tensor([1, 2], { device: dev }).toArray()).toEqual([1, 2]);
  });

  it.each(all)('reports the adapter, its limits and features ($info.backend)', (dev) => {
    expect(dev.info.adapter.length).toBeGreaterThan(0);
    if (dev.backend === 'webgpu') {
      expect(dev.info.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
      expect(dev.info.f16).toBe(dev.info.features.includes('shader-f16'));
      // lavapipe reports its subgroup size (its SIMD width: 8 with AVX2), a power of two.
      if (/llvmpipe/.test(dev.info.adapter)) expect([4, 8, 16]).toContain(dev.info.subgroupMinSize);
      if (dev.info.subgroupMinSize !== undefined)
        expect(Math.log2(dev.info.subgroupMinSize) % 1).toBe(0);
    } else if (dev.backend === 'wasm') {
      expect(dev.info.adapter).toBe('wasm-simd128 (2 threads)');
      expect(dev.info.limits.threads).toBe(2);
    } else {
      expect(dev.info.adapter).toBe('cpu');
    }
  });

  it('refuses a thread count that is not a positive integer', async () => {
    await expect(createDevice({ backend: 'wasm', threads: 0 })).rejects.toThrow(
      'createDevice: threads must be a positive integer, got 0',
    );
    await expect(createDevice({ threads: 1.5 })).rejects.toThrow('got 1.5');
  });

  it('runs the wasm backend on the threads asked for', async () => {
    const dev = await createDevice({ backend: 'wasm', threads: 1 });
    expect(dev.info.adapter).toBe('wasm-simd128 (1 thread)');
    expect(await tensor([1, 2], { device: dev }).add(1).toArray()).toEqual([2, 3]);
    dev.destroy();
  });

  it('auto falls back to wasm without an adapter, saying how to get GPU speed', () => {
    // A Vulkan loader that finds no driver: Dawn has no adapter to offer.
    const index = new URL('./index.ts', import.meta.url).pathname;
    const script = `const { createDevice } = await import(${JSON.stringify(index)});
const d = await createDevice();
console.log(d.info.backend);
d.destroy();`;
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        env: {
          ...process.env,
          VK_ICD_FILENAMES: '/nonexistent.json',
          VK_DRIVER_FILES: '/nonexistent.json',
        },
        encoding: 'utf8',
      },
    );
    expect(run.stdout.trim()).toBe('wasm');
    expect(run.stderr).toMatch(
      /tessera: No WebGPU adapter found .*; running on the wasm backend \(\d+ threads?\)\. For GPU speed, install the GPU's Vulkan driver .*mesa-vulkan-drivers/,
    );
  });

  it('explains how to get an adapter in its error', () => {
    const e = new NoAdapterError('requestAdapter() returned null');
    expect(e.message).toMatch(/setup-software-gpu\.sh/);
    expect(e.message).toMatch(/backend: 'wasm'/);
    expect(e.message).toMatch(/backend: 'cpu'/);
  });
});
