import type { DType } from './dtype.js';
import type { Shape } from './shape.js';

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

/** Counters a backend reports through `device.memory()`. */
export interface BackendStats {
  /** Bytes held by live storages (what tensors use). */
  liveBytes: number;
  /** Largest `liveBytes` since the device was created or `resetPeakMemory()` was called. */
  peakBytes: number;
  /** Bytes held in the pool for reuse (WebGPU only). */
  pooledBytes: number;
  /** GPU buffers ever created (grows only when the pool has nothing that fits). */
  buffersCreated: number;
  /** Compute pipelines ever compiled (grows only for kernels not seen before). */
  pipelinesCompiled: number;
  /** Dispatches recorded since the device was created. */
  dispatches: number;
  /** Queue submissions since the device was created. */
  submits: number;
}

/** A storage handle owned by one backend: a GPUBuffer or a typed array. */
export interface Storage {
  readonly bytes: number;
  /** Tensors (and views) that share this storage; freed when it reaches zero. */
  refs: number;
}
