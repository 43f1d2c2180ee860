import type {
  Backend,
  BackendName,
  BackendStats,
  BoundTensor,
  DeviceInfo,
  HostArray,
  KernelRunner,
  Storage,
} from './backend.js';
import { CpuBackend } from './cpu/cpu-backend.js';
import type { DType } from './dtype.js';
import { checkOptions, NoAdapterError } from './errors.js';
import { type KernelProfile, ProfileCollector } from './profile.js';
import { tidy } from './scope.js';
import { createWasmBackend, WasmUnavailableError } from './wasm/wasm-backend.js';
import { createWebGPUBackend } from './webgpu/create.js';

export type { BackendName, DeviceInfo, KernelRunner };

export interface CreateDeviceOptions {
  /**
   * `webgpu`, `wasm` (WebAssembly SIMD kernels on worker threads), `cpu` (the plain TypeScript
   * reference), or `auto` (default): WebGPU when an adapter exists, else wasm, else the CPU
   * reference, with a one-line warning.
   */
  backend?: BackendName | 'auto';
  powerPreference?: GPUPowerPreference;
  /**
   * Threads the wasm backend computes on, the calling thread included (default: the machine's
   * cores, `os.availableParallelism()` or `navigator.hardwareConcurrency`). A positive integer.
   */
  threads?: number;
}

/** Live memory as `device.memory()` reports it. */
export interface MemoryInfo extends BackendStats {
  liveTensors: number;
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

const BACKENDS = ['auto', 'webgpu', 'wasm', 'cpu'];

/**
 * A compute device: WebGPU (the product), wasm (WebAssembly on the CPU's cores) or the CPU
 * reference backend. Tensors belong to one device; ops on tensors of two devices are an error.
 */
export class Device {
  /** Tensors alive on this device (created and not yet disposed or collected). */
  liveTensors = 0;

  private constructor(private readonly impl: Backend) {}

  /** What the device runs on: the backend, the adapter, its limits and features. */
  get info(): DeviceInfo {
    return this.impl.info;
  }

  get backend(): BackendName {
    return this.impl.info.backend;
  }

  /** @internal */
  static async create(options: CreateDeviceOptions = {}): Promise<Device> {
    checkOptions('createDevice', options, ['backend', 'powerPreference', 'threads']);
    const backend = options.backend ?? 'auto';
    if (!BACKENDS.includes(backend)) {
      throw new TypeError(
        `createDevice: backend must be 'auto', 'webgpu', 'wasm' or 'cpu', got ${JSON.stringify(backend)}`,
      );
    }
    const threads = options.threads;
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
      throw new RangeError(
        `createDevice: threads must be a positive integer, got ${JSON.stringify(threads)}`,
      );
    }
    if (backend === 'cpu') return new Device(new CpuBackend());
    if (backend === 'wasm') return new Device(await createWasmBackend({ threads }));
    if (backend === 'webgpu') return new Device(await createWebGPUBackend(options.powerPreference));
    return new Device(await autoBackend(options.powerPreference, threads));
  }

  /**
   * @internal Allocates storage for `length` elements of `dtype`, filled from `values` when given
   * (numbers become integers by the rule of `cast`: truncated, saturated, NaN → 0); otherwise its
   * contents are unspecified.
   */
  allocate(dtype: DType, length: number, values?: ArrayLike<number>): Storage {
    return this.impl.allocate(dtype, length, values);
  }

  /** @internal */
  release(storage: Storage): void {
    this.impl.free(storage);
  }

  /** @internal Runs one kernel: at once on the CPU backends, recorded into the open batch on the GPU. */
  run<P>(
    kernel: KernelRunner<P>,
    inputs: readonly BoundTensor[],
    outputs: readonly BoundTensor[],
    params: P,
  ): void {
    this.impl.run(kernel, inputs, outputs, params);
  }

  /** @internal Reads `length` elements starting at element `offset` of a storage. */
  read(storage: Storage, dtype: DType, offset: number, length: number): Promise<HostArray> {
    return this.impl.read(storage, dtype, offset, length);
  }

  /** Live tensors and bytes, pool size, and counters of buffers and pipelines ever created. */
  memory(): MemoryInfo {
    return { ...this.impl.stats(), liveTensors: this.liveTensors };
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
    if (this.impl.profiler)
      throw new Error('profile: a profile is already open on this device (profiles do not nest)');
    await this.sync();
    const collector = new ProfileCollector();
    this.impl.profiler = collector;
    const t0 = performance.now();
    try {
      await fn();
      await this.sync();
    } finally {
      this.impl.profiler = undefined;
    }
    return collector.finish(this.impl.timing, performance.now() - t0);
  }

  /** Starts a new peak-memory measurement (`memory().peakBytes`), like PyTorch's reset_peak_memory_stats. */
  resetPeakMemory(): void {
    this.impl.resetPeak();
  }

  /**
   * Submits everything recorded so far and waits until the GPU has finished it.
   *
   * @throws RangeError - a check a kernel failed on the device since the last read (an index
   *   out of range, a class target outside [0, classes)), as the CPU backend throws it
   */
  async sync(): Promise<void> {
    await this.impl.sync();
  }

  /**
   * Frees the GPU device and every pooled buffer, or the wasm memory and its worker threads.
   * Tensors of this device become unusable.
   */
  destroy(): void {
    this.impl.destroy();
    if (defaultDevice === this) defaultDevice = undefined;
  }
}

/** Creates a device; the first one created becomes the default for creation functions. */
export async function createDevice(options: CreateDeviceOptions = {}): Promise<Device> {
  const device = await Device.create(options);
  defaultDevice ??= device;
  return device;
}

/**
 * The backend `auto` picks: WebGPU when an adapter exists, else wasm, else the CPU reference,
 * with a warning that names what is missing and what would be faster.
 */
async function autoBackend(
  powerPreference: GPUPowerPreference | undefined,
  threads: number | undefined,
): Promise<Backend> {
  let noGpu: string;
  try {
    return await createWebGPUBackend(powerPreference);
  } catch (e) {
    if (!(e instanceof NoAdapterError)) throw e;
    noGpu = e.message.split('. ')[0]!;
  }
  const faster =
    "For GPU speed, install the GPU's Vulkan driver (Debian/Ubuntu: `apt install mesa-vulkan-drivers` for AMD and Intel, `nvidia-driver` for NVIDIA).";
  try {
    const wasm = await createWasmBackend({ threads });
    console.warn(
      `tessera: ${noGpu}; running on the wasm backend (${wasm.threads} threads). ${faster}`,
    );
    return wasm;
  } catch (e) {
    if (!(e instanceof WasmUnavailableError)) throw e;
    console.warn(
      `tessera: ${noGpu}, and ${e.message}; falling back to the CPU reference backend (slow). ${faster} Without a GPU, Mesa's lavapipe runs WebGPU on the CPU, faster than this (the repository's scripts/setup-software-gpu.sh installs it).`,
    );
    return new CpuBackend();
  }
}
