import type { BackendStats, Storage } from '../backend.js';

export interface CpuStorage extends Storage {
  readonly data: Float32Array | Int32Array | Uint32Array;
}

/** The CPU reference backend: storages are typed arrays and kernels run at once, in plain TS. */
export class CpuBackend {
  private liveBytes = 0;
  private peakBytes = 0;
  private created = 0;

  allocate(data: Float32Array | Int32Array | Uint32Array): CpuStorage {
    this.liveBytes += data.byteLength;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    this.created++;
    return { data, bytes: data.byteLength, refs: 1 };
  }

  free(storage: CpuStorage): void {
    this.liveBytes -= storage.bytes;
  }

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
}
