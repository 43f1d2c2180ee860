import type { BackendStats, CpuTensor, Storage, TensorLayout } from './backend.js';
import { CpuBackend, type CpuStorage } from './cpu/cpu-backend.js';
import { asElements, BYTES_PER_ELEMENT, cpuArrayFor, type DType } from './dtype.js';
import { checkOptions, NoAdapterError } from './errors.js';
import { f16BitsToF32, f32ToF16Bits } from './f16.js';
import { requestGpuDevice } from './gpu-adapter.js';
import type { GpuKernel } from './kernel.js';
import { type KernelProfile, ProfileCollector } from './profile.js';
import { tidy } from './scope.js';
import { type GpuStorage, WebGPUBackend } from './webgpu/webgpu-backend.js';

export type BackendName = 'webgpu' | 'cpu';

export interface CreateDeviceOptions {
  /** `auto` takes WebGPU when an adapter exists, else the CPU backend with a one-line warning. */
  backend?: BackendName | 'auto';
  powerPreference?: GPUPowerPreference;
}

/** What the device runs on. */
export interface DeviceInfo {
  backend: BackendName;
  /** Adapter description, e.g. `llvmpipe (LLVM 19.1.7, 256 bits)` on lavapipe, or `cpu`. */
  adapter: string;
  vendor: string;
  architecture: string;
  features: string[];
  limits: Record<string, number>;
  /** Whether f16 storage and arithmetic are available (`shader-f16`). */
  f16: boolean;
  subgroups: boolean;
  /** True for CPU implementations of WebGPU (lavapipe/llvmpipe, SwiftShader): kernels pick CPU-friendly variants. */
  software: boolean;
}

/** Live memory as `device.memory()` reports it. */
export interface MemoryInfo extends BackendStats {
  liveTensors: number;
}

/** Everything a kernel needs from the device to run one op. */
export interface KernelRunner<P> {
  /** The op's name; the CPU backend's profile groups kernel times by it. */
  readonly name?: string;
  wgsl(
    inputs: readonly TensorLayout[],
    outputs: readonly TensorLayout[],
    params: P,
    info: DeviceInfo,
  ): GpuKernel | readonly GpuKernel[];
  cpu(inputs: readonly CpuTensor[], outputs: readonly CpuTensor[], params: P): void;
}

let defaultDevice: Device | undefined;

/** The device that creation functions use when none is named (the first one created). */
export function getDefaultDevice(): Device {
  if (!defaultDevice)
    throw new Error('No device yet: call `await createDevice()` before creating tensors');
  return defaultDevice;
}

export function setDefaultDevice(device: Device): void {
  defaultDevice = device;
}

/**
 * A compute device: WebGPU (the product) or the CPU reference backend. Tensors belong to one
 * device; ops on tensors of two devices are an error.
 */
export class Device {
  /** Tensors alive on this device (created and not yet disposed or collected). */
  liveTensors = 0;
  /** The open CPU profile, if any (WebGPU's lives in its backend). */
  private cpuProfiler: ProfileCollector | undefined;

  private constructor(
    readonly info: DeviceInfo,
    private readonly gpu: WebGPUBackend | undefined,
    private readonly cpuBackend: CpuBackend | undefined,
  ) {}

  get backend(): BackendName {
    return this.info.backend;
  }

  /** @internal */
  static async create(options: CreateDeviceOptions = {}): Promise<Device> {
    checkOptions('createDevice', options, ['backend', 'powerPreference']);
    const backend = options.backend ?? 'auto';
    if (!['auto', 'webgpu', 'cpu'].includes(backend)) {
      throw new TypeError(
        `createDevice: backend must be 'auto', 'webgpu' or 'cpu', got ${JSON.stringify(backend)}`,
      );
    }
    if (backend === 'cpu') return Device.cpu();
    try {
      const { gpu, adapter, device } = await requestGpuDevice(options.powerPreference);
      const ai = adapter.info;
      const limits: Record<string, number> = {};
      for (const key of [
        'maxStorageBufferBindingSize',
        'maxBufferSize',
        'maxComputeWorkgroupStorageSize',
        'maxComputeInvocationsPerWorkgroup',
        'maxComputeWorkgroupsPerDimension',
      ] as const) {
        limits[key] = device.limits[key];
      }
      const features = [...device.features].map(String).sort();
      const info: DeviceInfo = {
        backend: 'webgpu',
        adapter: ai.description || ai.device || 'unknown adapter',
        vendor: ai.vendor,
        architecture: ai.architecture,
        features,
        limits,
        f16: device.features.has('shader-f16'),
        subgroups: device.features.has('subgroups'),
        software: /llvmpipe|lavapipe|swiftshader|software/i.test(
          `${ai.description} ${ai.device} ${ai.architecture}`,
        ),
      };
      return new Device(info, new WebGPUBackend(device, [gpu, adapter]), undefined);
    } catch (e) {
      if (backend === 'webgpu' || !(e instanceof NoAdapterError)) throw e;
      console.warn(`tessera: ${e.message.split('. ')[0]}; falling back to the CPU backend.`);
      return Device.cpu();
    }
  }

  private static cpu(): Device {
    const info: DeviceInfo = {
      backend: 'cpu',
      adapter: 'cpu',
      vendor: 'tessera',
      architecture: 'cpu-reference',
      features: [],
      limits: {},
      f16: true,
      subgroups: false,
      software: true,
    };
    return new Device(info, undefined, new CpuBackend());
  }

  /**
   * @internal Allocates storage for `length` elements of `dtype`, optionally filled from `data`
   * (numbers become integers by the rule of `cast`: truncated, saturated, NaN → 0).
   */
  allocate(dtype: DType, length: number, values?: ArrayLike<number>): Storage {
    const data = values && asElements(dtype, values);
    if (this.gpu) {
      const bytes = length * BYTES_PER_ELEMENT[dtype];
      const limit = this.info.limits.maxStorageBufferBindingSize!;
      if (bytes > limit) {
        throw new RangeError(
          `a tensor of ${length} ${dtype} elements needs ${(bytes / 2 ** 20).toFixed(1)} MiB, more than this adapter's maxStorageBufferBindingSize (${(limit / 2 ** 20).toFixed(0)} MiB)`,
        );
      }
      const storage = this.gpu.allocate(bytes);
      if (data) this.gpu.write(storage, toGpuArray(dtype, data));
      return storage;
    }
    const array = cpuArrayFor(dtype, length);
    // The CPU holds f16 as f32 values rounded to half precision, so both backends agree.
    if (data)
      array.set(dtype === 'f16' ? f16BitsToF32(f32ToF16Bits(data)).subarray(0, length) : data);
    return this.cpuBackend!.allocate(array);
  }

  /** @internal */
  release(storage: Storage): void {
    if (this.gpu) this.gpu.free(storage as GpuStorage);
    else this.cpuBackend!.free(storage as CpuStorage);
  }

  /** @internal Runs one kernel: on the GPU it is recorded into the open batch. */
  run<P>(
    kernel: KernelRunner<P>,
    inputs: readonly { layout: TensorLayout; storage: Storage }[],
    outputs: readonly { layout: TensorLayout; storage: Storage }[],
    params: P,
  ): void {
    if (this.gpu) {
      const k = kernel.wgsl(
        inputs.map((t) => t.layout),
        outputs.map((t) => t.layout),
        params,
        this.info,
      );
      const ins = inputs.map((t) => (t.storage as GpuStorage).buffer);
      const outs = outputs.map((t) => (t.storage as GpuStorage).buffer);
      for (const one of Array.isArray(k) ? k : [k as GpuKernel]) this.gpu.dispatch(one, ins, outs);
      return;
    }
    const asCpu = (t: { layout: TensorLayout; storage: Storage }): CpuTensor => ({
      ...t.layout,
      data: (t.storage as CpuStorage).data,
    });
    const profiler = this.cpuProfiler;
    const t0 = profiler ? performance.now() : 0;
    kernel.cpu(inputs.map(asCpu), outputs.map(asCpu), params);
    if (profiler) {
      const dtype = outputs[0]?.layout.dtype ?? inputs[0]?.layout.dtype ?? '';
      profiler.add(`${kernel.name ?? 'kernel'}:${dtype}`, performance.now() - t0);
    }
  }

  /** @internal Reads `length` elements starting at element `offset` of a storage. */
  async read(
    storage: Storage,
    dtype: DType,
    offset: number,
    length: number,
  ): Promise<Float32Array | Int32Array | Uint32Array> {
    if (this.gpu) {
      const bpe = BYTES_PER_ELEMENT[dtype];
      const bytes = await this.gpu.read(storage as GpuStorage, offset * bpe, length * bpe);
      return fromGpuBytes(dtype, bytes, length);
    }
    const data = (storage as CpuStorage).data;
    return data.slice(offset, offset + length);
  }

  /** Live tensors and bytes, pool size, and counters of buffers and pipelines ever created. */
  memory(): MemoryInfo {
    const stats = this.gpu ? this.gpu.stats() : this.cpuBackend!.stats();
    return { ...stats, liveTensors: this.liveTensors };
  }

  /**
   * Runs `fn` once (its tensors are freed) so every kernel it uses is compiled, and waits for
   * the GPU. Returns how many pipelines were compiled; later calls with other shapes compile none.
   */
  async warmup(fn: () => unknown): Promise<number> {
    const before = this.memory().pipelinesCompiled;
    tidy(() => {
      fn();
    });
    await this.sync();
    return this.memory().pipelinesCompiled - before;
  }

  /**
   * Runs `fn` and reports where the device's time went, kernel by kernel (grouped by pipeline
   * key), like PyTorch's profiler: on WebGPU from timestamp queries around every dispatch (each
   * dispatch gets its own compute pass, so a profiled run is a little slower than a free one),
   * on the CPU backend from the clock around every kernel. Work recorded before the call is
   * finished first and not counted. `formatProfile` prints the result as a table.
   *
   * @example
   * ```ts
   * const profile = await dev.profile(() => loss.backward());
   * console.log(formatProfile(profile, 10));
   * ```
   */
  async profile(fn: () => unknown): Promise<KernelProfile> {
    if (this.gpu?.profiler || this.cpuProfiler)
      throw new Error('profile: a profile is already open on this device (profiles do not nest)');
    await this.sync();
    const collector = new ProfileCollector();
    if (this.gpu) this.gpu.profiler = collector;
    else this.cpuProfiler = collector;
    const t0 = performance.now();
    try {
      await fn();
      await this.sync();
    } finally {
      if (this.gpu) this.gpu.profiler = undefined;
      this.cpuProfiler = undefined;
    }
    const timing = !this.gpu ? 'cpu-clock' : this.gpu.timestamps ? 'gpu-timestamps' : 'none';
    return collector.finish(timing, performance.now() - t0);
  }

  /** Starts a new peak-memory measurement (`memory().peakBytes`), like PyTorch's reset_peak_memory_stats. */
  resetPeakMemory(): void {
    if (this.gpu) this.gpu.resetPeak();
    else this.cpuBackend!.resetPeak();
  }

  /**
   * Submits everything recorded so far and waits until the GPU has finished it.
   *
   * @throws RangeError - a check a kernel failed on the device since the last read (an index
   *   out of range, a class target outside [0, classes)), as the CPU backend throws it
   */
  async sync(): Promise<void> {
    if (!this.gpu) return;
    await this.gpu.flush();
    await this.gpu.device.queue.onSubmittedWorkDone();
    await this.gpu.raiseChecks();
  }

  /** Frees the GPU device and every pooled buffer. Tensors of this device become unusable. */
  destroy(): void {
    this.gpu?.destroy();
    if (defaultDevice === this) defaultDevice = undefined;
  }
}

/** Creates a device; the first one created becomes the default for creation functions. */
export async function createDevice(options: CreateDeviceOptions = {}): Promise<Device> {
  const device = await Device.create(options);
  defaultDevice ??= device;
  return device;
}

function toGpuArray(dtype: DType, data: ArrayLike<number>): ArrayBufferView {
  switch (dtype) {
    case 'f32':
      return data instanceof Float32Array ? data : Float32Array.from(data);
    case 'i32':
      return data instanceof Int32Array ? data : Int32Array.from(data);
    case 'u32':
      return data instanceof Uint32Array ? data : Uint32Array.from(data);
    case 'f16':
      return f32ToF16Bits(data);
  }
}

function fromGpuBytes(
  dtype: DType,
  bytes: ArrayBuffer,
  length: number,
): Float32Array | Int32Array | Uint32Array {
  switch (dtype) {
    case 'f32':
      return new Float32Array(bytes, 0, length);
    case 'i32':
      return new Int32Array(bytes, 0, length);
    case 'u32':
      return new Uint32Array(bytes, 0, length);
    case 'f16':
      return f16BitsToF32(new Uint16Array(bytes, 0, length));
  }
}
