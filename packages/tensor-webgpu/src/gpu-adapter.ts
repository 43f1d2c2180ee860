import { NoAdapterError } from './errors.js';

/** The `navigator.gpu` of a browser, or Dawn's from the `webgpu` package in Node. */
async function gpuEntryPoint(): Promise<{ gpu: GPU; dawn: boolean } | undefined> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, dawn: false };
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
  return { gpu: dawn.create(['disable-dawn-features=timestamp_quantization']), dawn: true };
}

/** Dawn's own cap on dynamic-offset buffers per pipeline layout (uniform and storage alike). */
const DAWN_DYNAMIC_BUFFER_CAP = 16;
let dawnNoteShown = false;

/**
 * The note that explains Dawn's two limit warnings, or undefined when these limits did not
 * trigger them. When a driver offers more dynamic-offset buffers than Dawn supports (lavapipe,
 * and NVIDIA's and AMD's Vulkan drivers, do), Dawn prints "Warning: maxDynamicUniformBuffersPer
 * PipelineLayout artificially reduced from … to 16 …" and its storage twin to stderr from native
 * code while the adapter is requested — output JavaScript cannot filter. Tessera binds no
 * dynamic-offset buffers, so the warnings are harmless; this note says so.
 */
export function dawnLimitNote(limits: {
  maxDynamicUniformBuffersPerPipelineLayout: number;
  maxDynamicStorageBuffersPerPipelineLayout: number;
}): string | undefined {
  const capped =
    limits.maxDynamicUniformBuffersPerPipelineLayout === DAWN_DYNAMIC_BUFFER_CAP &&
    limits.maxDynamicStorageBuffersPerPipelineLayout === DAWN_DYNAMIC_BUFFER_CAP;
  if (!capped) return undefined;
  return (
    "tessera: Dawn's two 'maxDynamic…BuffersPerPipelineLayout artificially reduced' warnings, " +
    'if printed above, are harmless: Tessera uses no dynamic-offset buffers (explained once per process).'
  );
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
  let entry: { gpu: GPU; dawn: boolean } | undefined;
  try {
    entry = await gpuEntryPoint();
  } catch (e) {
    throw new NoAdapterError(`the 'webgpu' package failed to load: ${(e as Error).message}`);
  }
  if (!entry) throw new NoAdapterError('this runtime has no navigator.gpu');
  const { gpu, dawn } = entry;
  const adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) throw new NoAdapterError('requestAdapter() returned null');
  const note = dawn && !dawnNoteShown ? dawnLimitNote(adapter.limits) : undefined;
  if (note) {
    dawnNoteShown = true;
    console.warn(note);
  }
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
