import type {
  Backend,
  BackendStats,
  BoundTensor,
  CpuTensor,
  DeviceInfo,
  HostArray,
  KernelRunner,
  Storage,
} from '../backend.js';
import { asElements, cpuArrayFor, type DType } from '../dtype.js';
import { f16BitsToF32, f32ToF16Bits } from '../f16.js';
import type { ProfileCollector } from '../profile.js';

export interface CpuStorage extends Storage {
  readonly data: HostArray;
}

/**
 * Writes `values` into a host array of `dtype` (numbers become integers by the rule of `cast`).
 * The CPU backends hold f16 as f32 values rounded to half precision, so they agree with WebGPU.
 */
export function fillHost(array: HostArray, dtype: DType, values: ArrayLike<number>): void {
  const data = asElements(dtype, values);
  array.set(dtype === 'f16' ? f16BitsToF32(f32ToF16Bits(data)).subarray(0, array.length) : data);
}

/** Runs the CPU reference of `kernel` over host arrays, timed into `profiler` when one is open. */
export function runReference<P>(
  kernel: KernelRunner<P>,
  inputs: readonly CpuTensor[],
  outputs: readonly CpuTensor[],
  params: P,
  profiler: ProfileCollector | undefined,
  label = '',
): void {
  if (!profiler) {
    kernel.cpu(inputs, outputs, params);
    return;
  }
  const dtype = outputs[0]?.dtype ?? inputs[0]?.dtype ?? '';
  profiler.time(`${kernel.name ?? 'kernel'}:${dtype}${label}`, () =>
    kernel.cpu(inputs, outputs, params),
  );
}

const CPU_INFO: DeviceInfo = {
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

/** The CPU reference backend: storages are typed arrays and kernels run at once, in plain TS. */
export class CpuBackend implements Backend {
  readonly info = CPU_INFO;
  readonly timing = 'cpu-clock';
  profiler: ProfileCollector | undefined;
  private liveBytes = 0;
  private peakBytes = 0;
  private created = 0;

  allocate(dtype: DType, length: number, values?: ArrayLike<number>): CpuStorage {
    const data = cpuArrayFor(dtype, length);
    if (values) fillHost(data, dtype, values);
    this.liveBytes += data.byteLength;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    this.created++;
    return { data, bytes: data.byteLength, refs: 1 };
  }

  free(storage: Storage): void {
    this.liveBytes -= storage.bytes;
  }

  run<P>(
    kernel: KernelRunner<P>,
    inputs: readonly BoundTensor[],
    outputs: readonly BoundTensor[],
    params: P,
  ): void {
    const host = (t: BoundTensor): CpuTensor => ({
      ...t.layout,
      data: (t.storage as CpuStorage).data,
    });
    runReference(kernel, inputs.map(host), outputs.map(host), params, this.profiler);
  }

  async read(storage: Storage, _dtype: DType, offset: number, length: number): Promise<HostArray> {
    return (storage as CpuStorage).data.slice(offset, offset + length);
  }

  async sync(): Promise<void> {}

  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  stats(): BackendStats {
    return {
      liveBytes: this.liveBytes,
      peakBytes: this.peakBytes,
      pooledBytes: 0,
      buffersCreated: this.created,
      pipelinesCompiled: 0,
      dispatches: 0,
      submits: 0,
    };
  }

  destroy(): void {}
}
