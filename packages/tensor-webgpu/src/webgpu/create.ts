import type { DeviceInfo } from '../backend.js';
import { requestGpuDevice } from '../gpu-adapter.js';
import { WebGPUBackend } from './webgpu-backend.js';

/** Limits `DeviceInfo.limits` reports for a WebGPU device. */
const REPORTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
] as const;

/**
 * A WebGPU backend on the best adapter there is.
 *
 * @throws NoAdapterError - no WebGPU adapter in this runtime
 */
export async function createWebGPUBackend(
  powerPreference?: GPUPowerPreference,
): Promise<WebGPUBackend> {
  const { gpu, adapter, device } = await requestGpuDevice(powerPreference);
  const ai = adapter.info;
  const limits: Record<string, number> = {};
  for (const key of REPORTED_LIMITS) limits[key] = device.limits[key];
  const info: DeviceInfo = {
    backend: 'webgpu',
    adapter: ai.description || ai.device || 'unknown adapter',
    vendor: ai.vendor,
    architecture: ai.architecture,
    features: [...device.features].map(String).sort(),
    limits,
    f16: device.features.has('shader-f16'),
    subgroups: device.features.has('subgroups'),
    subgroupMinSize: (ai as { subgroupMinSize?: number }).subgroupMinSize,
    software: /llvmpipe|lavapipe|swiftshader|software/i.test(
      `${ai.description} ${ai.device} ${ai.architecture}`,
    ),
  };
  return new WebGPUBackend(device, info, [gpu, adapter]);
}
