import type { DType } from './dtype.js';
import type { GpuKernel } from './kernel.js';
import type { KernelProfile, ProfileCollector } from './profile.js';
import type { Shape } from './shape.js';
import type { WasmContext, WasmTensor } from './wasm/wasm-kernel.js';

/** What a kernel knows of one tensor: its layout over a storage, never the storage itself. */
export interface TensorLayout {
  readonly shape: Shape;
  readonly strides: readonly number[];
  /** Offset of the first element, in elements. */
  readonly offset: number;
  readonly dtype: DType;
}

/** A tensor as the CPU reference of a kernel sees it: a typed array plus its layout. */
export interface CpuTensor extends TensorLayout {
  readonly data: Float32Array | Int32Array | Uint32Array;
}

/** The arrays tensors are read back into (f16 comes back as f32 values). */
export type HostArray = Float32Array | Int32Array | Uint32Array;

/** Counters a backend reports through `device.memory()`. */
export interface BackendStats {
  /** Bytes held by live storages (what tensors use). */
  liveBytes: number;
  /** Largest `liveBytes` since the device was created or `resetPeakMemory()` was called. */
  peakBytes: number;
  /** Bytes held in the pool for reuse (WebGPU and wasm). */
  pooledBytes: number;
  /** Buffers ever created: GPU buffers, or blocks of wasm memory (grows only when the pool has nothing that fits). */
  buffersCreated: number;
  /** Compute pipelines (WebGPU) or WebAssembly modules (wasm) ever compiled. */
  pipelinesCompiled: number;
  /** Dispatches recorded since the device was created. */
  dispatches: number;
  /** Queue submissions since the device was created. */
  submits: number;
}

/** A storage handle owned by one backend: a GPUBuffer, a typed array, or a block of wasm memory. */
export interface Storage {
  readonly bytes: number;
  /** Tensors (and views) that share this storage; freed when it reaches zero. */
  refs: number;
}

/** The backends a device can run on. */
export type BackendName = 'webgpu' | 'wasm' | 'cpu';

/** What the device runs on. */
export interface DeviceInfo {
  backend: BackendName;
  /** Adapter description, e.g. `llvmpipe (LLVM 19.1.7, 256 bits)` on lavapipe, `wasm-simd128 (2 threads)`, or `cpu`. */
  adapter: string;
  vendor: string;
  architecture: string;
  features: string[];
  limits: Record<string, number>;
  /** Whether f16 storage and arithmetic are available (`shader-f16`; always on the CPU backends). */
  f16: boolean;
  subgroups: boolean;
  /**
   * The smallest subgroup the adapter runs (WebGPU's `adapterInfo.subgroupMinSize`; 8 on
   * lavapipe), for kernels that hand values between lanes by lane index; absent where the
   * implementation does not report it.
   */
  subgroupMinSize?: number;
  /** True for CPU implementations (lavapipe/llvmpipe, SwiftShader, wasm, the CPU reference): kernels pick CPU-friendly variants. */
  software: boolean;
}

/** A tensor's layout and the storage it lives in, as a backend receives it. */
export interface BoundTensor {
  readonly layout: TensorLayout;
  readonly storage: Storage;
}

/**
 * Everything a backend needs to run one op: its kernels for each backend. An `OpDefinition`
 * is one; the CPU reference is required, the others are chosen by the backend that runs it.
 */
export interface KernelRunner<P> {
  /** The op's name; CPU-side profiles group kernel times by it. */
  readonly name?: string;
  /**
   * The WebGPU kernel for these shapes. Bindings: inputs at 0..n-1 (`var<storage, read>`),
   * outputs at n..n+m-1 (`var<storage, read_write>`), the uniform struct `P` at n+m.
   * Outputs are always contiguous with offset 0. An array of kernels runs in order over the
   * same bindings (e.g. a zero-fill, then a scatter-add).
   */
  wgsl(
    inputs: readonly TensorLayout[],
    outputs: readonly TensorLayout[],
    params: P,
    info: DeviceInfo,
  ): GpuKernel | readonly GpuKernel[];
  /** The plain TypeScript reference; must write every element of the (contiguous) outputs. */
  cpu(inputs: readonly CpuTensor[], outputs: readonly CpuTensor[], params: P): void;
  /**
   * The kernel on the wasm backend: runs exports of a `WasmModule` over the tensors' addresses in
   * the shared wasm memory through `context.call`, and must write every element of the outputs
   * (contiguous, offset 0). Return `false`, before calling anything, for layouts or params it
   * does not handle (f16, say): the CPU reference then runs on the same memory, as it does for
   * ops without this hook.
   */
  wasm?(
    inputs: readonly WasmTensor[],
    outputs: readonly WasmTensor[],
    params: P,
    context: WasmContext,
  ): boolean | undefined;
}

/**
 * What a device runs on: memory, kernels and synchronisation, behind a handful of methods. A
 * `Device` holds one backend and delegates to it; ops never see which.
 */
export interface Backend {
  readonly info: DeviceInfo;
  /**
   * Storage for `length` elements of `dtype`, filled from `values` when given (numbers become
   * integers by the rule of `cast`); otherwise its contents are unspecified (kernels write every
   * element of their outputs).
   */
  allocate(dtype: DType, length: number, values?: ArrayLike<number>): Storage;
  free(storage: Storage): void;
  /** Runs (or, on a GPU, records) one kernel over bound inputs and outputs. */
  run<P>(
    kernel: KernelRunner<P>,
    inputs: readonly BoundTensor[],
    outputs: readonly BoundTensor[],
    params: P,
  ): void;
  /** Copies `length` elements from element `offset` of a storage to the host, after all work before it. */
  read(storage: Storage, dtype: DType, offset: number, length: number): Promise<HostArray>;
  /** Waits until all work recorded so far has finished, raising a failed device-side check. */
  sync(): Promise<void>;
  stats(): BackendStats;
  resetPeak(): void;
  /** Set while `device.profile` runs: kernel times go here. */
  profiler: ProfileCollector | undefined;
  /** How this backend times kernels for a profile. */
  readonly timing: KernelProfile['timing'];
  destroy(): void;
}
