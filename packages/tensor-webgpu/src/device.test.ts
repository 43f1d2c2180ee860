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
    } else if (dev.backend === 'wasm') {
      expect(dev.info.adapter).toBe('wasm-simd128 (2 threads)');
      expect(dev.info.limits.threads).toBe(2);
    } else {
      expect(dev.info.adapter).toBe('cpu');
    }
  });

  it('explains how to get an adapter in its error', () => {
    const e = new NoAdapterError('requestAdapter() returned null');
    expect(e.message).toMatch(/setup-software-gpu\.sh/);
    expect(e.message).toMatch(/backend: 'cpu'/);
  });
});
