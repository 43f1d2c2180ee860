import { createDevice } from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it, vi } from 'vitest';
import { dawnLimitNote } from './gpu-adapter.js';

const { gpu } = await testDevices();

describe("Dawn's limit warnings", () => {
  it('are explained when Dawn capped both dynamic-buffer limits at 16', () => {
    const capped = {
      maxDynamicUniformBuffersPerPipelineLayout: 16,
      maxDynamicStorageBuffersPerPipelineLayout: 16,
    };
    expect(dawnLimitNote(capped)).toMatch(
      /^tessera: Dawn's two 'maxDynamic…BuffersPerPipelineLayout artificially reduced' warnings, if printed above, are harmless/,
    );
    const native = {
      maxDynamicUniformBuffersPerPipelineLayout: 8,
      maxDynamicStorageBuffersPerPipelineLayout: 4,
    };
    expect(dawnLimitNote(native)).toBeUndefined();
  });

  it.each(gpu ? [gpu] : [])('are explained once per process, not per device', async () => {
    const warn = vi.spyOn(console, 'warn');
    try {
      const second = await createDevice({ backend: 'webgpu' });
      second.destroy();
      expect(warn.mock.calls.flat().join('\n')).not.toMatch(/maxDynamic/);
    } finally {
      warn.mockRestore();
    }
  });
});
