import { NoAdapterError } from './errors.js';

/** The `navigator.gpu` of a browser, or Dawn's from the `webgpu` package in Node. */
async function gpuEntryPoint(): Promise<GPU | undefined> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (typeof process === 'undefined' || !process.versions?.node) return undefined;
  // A variable specifier keeps browser bundlers from trying to resolve the native addon.
  const specifier = 'webgpu';
  const dawn = (await import(/* @vite-ignore */ specifier)) as {
    create: (flags: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  // Dawn's constants (GPUBufferUsage, GPUMapMode, ...) are not globals in Node until installed.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  // Dawn rounds timestamps to 100 µs by default, a browser mitigation that only blurs
  // `device.profile` in Node.
  return dawn.create(['disable-dawn-features=timestamp_quantization']);
}

export interface AdapterAndDevice {
  gpu: GPU;
  adapter: GPUAdapter;
  device: GPUDevice;
}

/** Requests a high-performance adapter and a device with the adapter's largest limits. */
export async function requestGpuDevice(
  powerPreference: GPUPowerPreference = 'high-performance',
): Promise<AdapterAndDevice> {
  let gpu: GPU | undefined;
  try {
    gpu = await gpuEntryPoint();
  } catch (e) {
    throw new NoAdapterError(`the 'webgpu' package failed to load: ${(e as Error).message}`);
  }
  if (!gpu) throw new NoAdapterError('this runtime has no navigator.gpu');
  const adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) throw new NoAdapterError('requestAdapter() returned null');
  const wanted: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  });
  return { gpu, adapter, device };
}
