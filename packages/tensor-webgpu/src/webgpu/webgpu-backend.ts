import type {
  Backend,
  BackendStats,
  BoundTensor,
  DeviceInfo,
  HostArray,
  KernelRunner,
  Storage,
} from '../backend.js';
import { CHECK_BYTES, recordedError } from '../device-checks.js';
import { asElements, BYTES_PER_ELEMENT, type DType } from '../dtype.js';
import type { GpuKernel } from '../kernel.js';
import type { KernelProfile, ProfileCollector } from '../profile.js';
import { BufferPool } from './buffer-pool.js';
import { fromGpuBytes, toGpuArray } from './host-arrays.js';

export interface GpuStorage extends Storage {
  readonly buffer: GPUBuffer;
}

interface Recorded {
  pipeline: Promise<GPUComputePipeline>;
  layout: GPUBindGroupLayout;
  label: string;
  buffers: GPUBuffer[];
  uniformOffset: number;
  uniformSize: number;
  workgroups: readonly [number, number, number];
  checks: boolean;
}

const UNIFORM_ALIGN = 256;
/** Dispatches per submission before a batch is flushed without waiting for a read. */
const MAX_BATCH = 512;

/**
 * The WebGPU backend: records dispatches into a batch, compiles each kernel once (asynchronously,
 * keyed by `GpuKernel.key`), and submits the batch when data is read or the batch is full.
 * Buffers freed while a batch is open return to the pool only after that batch is submitted,
 * so a queued write can never land in a buffer a pending dispatch still reads.
 */
export class WebGPUBackend implements Backend {
  readonly pool: BufferPool;
  private readonly stagingPool: BufferPool;
  private readonly uniformPool: BufferPool;
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private batch: Recorded[] = [];
  private uniformBytes: ArrayBuffer[] = [];
  private uniformCursor = 0;
  private freedInBatch: GPUBuffer[] = [];
  private flushing: Promise<void> = Promise.resolve();
  /** Flushed batches not yet encoded and submitted (they wait for pipeline compiles). */
  private inFlight = 0;
  private liveBytes = 0;
  private peakBytes = 0;
  private pipelinesCompiled = 0;
  private dispatches = 0;
  private submits = 0;
  /** Set while `device.profile` runs: each dispatch then gets its own timed compute pass. */
  profiler: ProfileCollector | undefined;
  /** Where checking kernels record the first failed check (see device-checks.ts). */
  private readonly checkBuffer: GPUBuffer;
  /** A checking kernel was recorded since the check buffer was last read. */
  private checksPending = false;

  /**
   * `keepAlive` holds the GPU instance and adapter: in Node, Dawn tears the instance down when
   * it is garbage-collected, even while a device made from it is in use.
   */
  constructor(
    readonly device: GPUDevice,
    readonly info: DeviceInfo,
    readonly keepAlive: readonly unknown[] = [],
  ) {
    const U = GPUBufferUsage;
    this.pool = new BufferPool(device, U.STORAGE | U.COPY_SRC | U.COPY_DST);
    this.stagingPool = new BufferPool(device, U.MAP_READ | U.COPY_DST);
    this.uniformPool = new BufferPool(device, U.UNIFORM | U.COPY_DST);
    this.checkBuffer = device.createBuffer({
      size: CHECK_BYTES,
      usage: U.STORAGE | U.COPY_SRC | U.COPY_DST,
      label: 'tessera checks',
    });
  }

  allocate(dtype: DType, length: number, values?: ArrayLike<number>): GpuStorage {
    const bytes = length * BYTES_PER_ELEMENT[dtype];
    const limit = this.info.limits.maxStorageBufferBindingSize!;
    if (bytes > limit) {
      throw new RangeError(
        `a tensor of ${length} ${dtype} elements needs ${(bytes / 2 ** 20).toFixed(1)} MiB, more than this adapter's maxStorageBufferBindingSize (${(limit / 2 ** 20).toFixed(0)} MiB)`,
      );
    }
    const buffer = this.pool.acquire(Math.max(bytes, 4));
    this.liveBytes += buffer.size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    if (values) this.write(buffer, toGpuArray(dtype, asElements(dtype, values)));
    return { buffer, bytes, refs: 1 };
  }

  free(storage: Storage): void {
    const { buffer } = storage as GpuStorage;
    this.liveBytes -= buffer.size;
    this.freedInBatch.push(buffer);
    // Straight back to the pool only when nothing recorded or submitted-but-not-yet-encoded can
    // still read it: a batch waiting for its pipelines is encoded later than a queued write.
    if (this.batch.length === 0 && this.inFlight === 0) this.recycleFreed();
  }

  private write(buffer: GPUBuffer, data: ArrayBufferView): void {
    // Writes go on the queue ahead of the open batch; the target is fresh or pooled, so no
    // recorded dispatch can still depend on its old contents.
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  run<P>(
    kernel: KernelRunner<P>,
    inputs: readonly BoundTensor[],
    outputs: readonly BoundTensor[],
    params: P,
  ): void {
    const k = kernel.wgsl(
      inputs.map((t) => t.layout),
      outputs.map((t) => t.layout),
      params,
      this.info,
    );
    const ins = inputs.map((t) => (t.storage as GpuStorage).buffer);
    const outs = outputs.map((t) => (t.storage as GpuStorage).buffer);
    for (const one of Array.isArray(k) ? k : [k as GpuKernel]) this.dispatch(one, ins, outs);
  }

  /** Compiles (once) the pipeline for a kernel key; the promise is cached. */
  pipeline(
    kernel: Pick<GpuKernel, 'key' | 'code' | 'checks'>,
    inputs: number,
    outputs: number,
  ): Promise<GPUComputePipeline> {
    const checks = kernel.checks ?? false;
    const cacheKey = `${kernel.key}#${inputs}:${outputs}${checks ? ':checks' : ''}`;
    let p = this.pipelines.get(cacheKey);
    if (!p) {
      this.pipelinesCompiled++;
      const module = this.device.createShaderModule({ code: kernel.code(), label: kernel.key });
      const layout = this.device.createPipelineLayout({
        bindGroupLayouts: [this.layout(inputs, outputs, checks)],
      });
      p = this.device.createComputePipelineAsync({
        layout,
        compute: { module, entryPoint: 'main' },
        label: kernel.key,
      });
      p.catch(() => {}); // reported when the batch that uses it flushes
      this.pipelines.set(cacheKey, p);
    }
    return p;
  }

  /** Records one dispatch of `kernel` reading `inputs` and writing `outputs`. */
  dispatch(kernel: GpuKernel, inputs: GPUBuffer[], outputs: GPUBuffer[]): void {
    const buffers = [...inputs, ...outputs];
    const bytes = kernel.uniforms.bytes();
    const offset = this.uniformCursor;
    this.uniformBytes.push(bytes);
    this.uniformCursor += Math.ceil(bytes.byteLength / UNIFORM_ALIGN) * UNIFORM_ALIGN;
    const checks = kernel.checks ?? false;
    this.checksPending ||= checks;
    this.batch.push({
      pipeline: this.pipeline(kernel, inputs.length, outputs.length),
      label: kernel.key,
      layout: this.layout(inputs.length, outputs.length, checks),
      buffers,
      uniformOffset: offset,
      uniformSize: bytes.byteLength,
      workgroups: kernel.workgroups,
      checks,
    });
    this.dispatches++;
    if (this.batch.length >= MAX_BATCH) void this.flush();
  }

  /** Submits everything recorded so far; resolves once it is on the queue. */
  flush(): Promise<void> {
    if (this.batch.length === 0 && this.freedInBatch.length === 0) return this.flushing;
    const batch = this.batch;
    const uniforms = this.uniformBytes;
    const size = this.uniformCursor;
    const freed = this.freedInBatch;
    const profiler = this.profiler;
    this.batch = [];
    this.uniformBytes = [];
    this.uniformCursor = 0;
    this.freedInBatch = [];
    // A failed batch rejects its own flush (and the read that waited on it), not later ones.
    this.inFlight++;
    const submitted = this.flushing
      .catch(() => {})
      .then(() => this.submit(batch, uniforms, size, freed, profiler))
      .finally(() => {
        this.inFlight--;
      });
    this.flushing = submitted;
    return this.flushing;
  }

  private async submit(
    batch: Recorded[],
    uniforms: ArrayBuffer[],
    size: number,
    freed: GPUBuffer[],
    profiler: ProfileCollector | undefined,
  ): Promise<void> {
    try {
      if (batch.length > 0) {
        const pipelines = await Promise.all(
          batch.map((r) =>
            r.pipeline.catch((e: unknown) => {
              throw new Error(
                `WebGPU kernel ${r.label} failed to compile: ${(e as Error).message}`,
              );
            }),
          ),
        );
        const uniformBuffer = this.uniformPool.acquire(size);
        const staged = new Uint8Array(size);
        for (const [i, u] of uniforms.entries())
          staged.set(new Uint8Array(u), batch[i]!.uniformOffset);
        this.device.queue.writeBuffer(uniformBuffer, 0, staged);
        const encoder = this.device.createCommandEncoder();
        const timer =
          profiler && this.timestamps ? new PassTimer(this.device, batch.length) : undefined;
        let pass: GPUComputePassEncoder | undefined;
        batch.forEach((r, i) => {
          const pipeline = pipelines[i]!;
          const entries: GPUBindGroupEntry[] = r.buffers.map((buffer, b) => ({
            binding: b,
            resource: { buffer },
          }));
          entries.push({
            binding: r.buffers.length,
            resource: { buffer: uniformBuffer, offset: r.uniformOffset, size: r.uniformSize },
          });
          if (r.checks)
            entries.push({ binding: r.buffers.length + 1, resource: { buffer: this.checkBuffer } });
          // Timestamps are taken at pass boundaries, so a profiled dispatch gets a pass of its own.
          if (timer) {
            pass?.end();
            pass = encoder.beginComputePass({ timestampWrites: timer.writes(i) });
          } else pass ??= encoder.beginComputePass();
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, this.device.createBindGroup({ layout: r.layout, entries }));
          pass.dispatchWorkgroups(r.workgroups[0], r.workgroups[1], r.workgroups[2]);
        });
        pass?.end();
        timer?.resolve(encoder);
        this.device.queue.submit([encoder.finish()]);
        this.submits++;
        this.uniformPool.release(uniformBuffer);
        if (profiler) {
          if (timer)
            profiler.pending.push(
              timer.read(
                batch.map((r) => r.label),
                profiler,
              ),
            );
          else for (const r of batch) profiler.add(r.label, 0);
        }
      }
    } finally {
      for (const b of freed) this.pool.release(b);
    }
  }

  /**
   * Copies elements from a storage into host memory, after everything recorded before it. When a
   * checking kernel ran since the last read, its check buffer comes back in the same copy, and a
   * failed check is raised here instead of returning data.
   */
  async read(storage: Storage, dtype: DType, offset: number, length: number): Promise<HostArray> {
    const bpe = BYTES_PER_ELEMENT[dtype];
    const bytes = await this.copyBack(storage as GpuStorage, offset * bpe, length * bpe);
    return fromGpuBytes(dtype, bytes, length);
  }

  /** Submits everything recorded and waits for it; raises a failed check it recorded. */
  async sync(): Promise<void> {
    await this.flush();
    await this.device.queue.onSubmittedWorkDone();
    if (this.checksPending) await this.copyBack(undefined, 0, 0);
  }

  private async copyBack(
    storage: GpuStorage | undefined,
    byteOffset: number,
    bytes: number,
  ): Promise<ArrayBuffer> {
    await this.flush();
    const aligned = Math.ceil(bytes / 4) * 4;
    const start = Math.floor(byteOffset / 4) * 4;
    const checks = this.checksPending;
    this.checksPending = false;
    const size = Math.max(aligned + (checks ? CHECK_BYTES : 0), 4);
    const staging = this.stagingPool.acquire(size);
    const encoder = this.device.createCommandEncoder();
    if (storage && aligned > 0)
      encoder.copyBufferToBuffer(storage.buffer, start, staging, 0, aligned);
    if (checks) {
      encoder.copyBufferToBuffer(this.checkBuffer, 0, staging, aligned, CHECK_BYTES);
      encoder.clearBuffer(this.checkBuffer);
    }
    this.device.queue.submit([encoder.finish()]);
    this.submits++;
    await staging.mapAsync(GPUMapMode.READ, 0, size);
    const mapped = staging.getMappedRange(0, size);
    const out = mapped.slice(0, bytes);
    const failed = checks ? recordedError(new Uint32Array(mapped, aligned, 4)) : undefined;
    staging.unmap();
    this.stagingPool.release(staging);
    if (failed) throw failed;
    return out;
  }

  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  stats(): BackendStats {
    return {
      liveBytes: this.liveBytes,
      peakBytes: this.peakBytes,
      pooledBytes: this.pool.pooledBytes,
      buffersCreated: this.pool.created + this.stagingPool.created + this.uniformPool.created,
      pipelinesCompiled: this.pipelinesCompiled,
      dispatches: this.dispatches,
      submits: this.submits,
    };
  }

  /** Whether dispatches can be timed (the device has `timestamp-query`). */
  get timestamps(): boolean {
    return this.device.features.has('timestamp-query');
  }

  get timing(): KernelProfile['timing'] {
    return this.timestamps ? 'gpu-timestamps' : 'none';
  }

  private recycleFreed(): void {
    for (const b of this.freedInBatch) this.pool.release(b);
    this.freedInBatch = [];
  }

  private layout(inputs: number, outputs: number, checks: boolean): GPUBindGroupLayout {
    const key = `${inputs}:${outputs}${checks ? ':checks' : ''}`;
    let layout = this.layouts.get(key);
    if (!layout) {
      // Explicit layouts (not 'auto') so a kernel that ignores a binding still validates;
      // inputs are read-only so one buffer may be bound as several inputs of a dispatch.
      const entries: GPUBindGroupLayoutEntry[] = [];
      const stage = GPUShaderStage.COMPUTE;
      for (let b = 0; b < inputs + outputs; b++) {
        entries.push({
          binding: b,
          visibility: stage,
          buffer: { type: b < inputs ? 'read-only-storage' : 'storage' },
        });
      }
      entries.push({ binding: inputs + outputs, visibility: stage, buffer: { type: 'uniform' } });
      if (checks)
        entries.push({
          binding: inputs + outputs + 1,
          visibility: stage,
          buffer: { type: 'storage' },
        });
      layout = this.device.createBindGroupLayout({ entries });
      this.layouts.set(key, layout);
    }
    return layout;
  }

  destroy(): void {
    this.pool.clear();
    this.stagingPool.clear();
    this.uniformPool.clear();
    this.checkBuffer.destroy();
    this.device.destroy();
  }
}

/** Timestamp queries around each dispatch of one submission, read back after it completes. */
class PassTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolved: GPUBuffer;
  private readonly readable: GPUBuffer;

  constructor(
    device: GPUDevice,
    private readonly count: number,
  ) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * count });
    const bytes = 16 * count;
    const U = GPUBufferUsage;
    this.resolved = device.createBuffer({ size: bytes, usage: U.QUERY_RESOLVE | U.COPY_SRC });
    this.readable = device.createBuffer({ size: bytes, usage: U.MAP_READ | U.COPY_DST });
  }

  writes(i: number): GPUComputePassTimestampWrites {
    return {
      querySet: this.querySet,
      beginningOfPassWriteIndex: 2 * i,
      endOfPassWriteIndex: 2 * i + 1,
    };
  }

  resolve(encoder: GPUCommandEncoder): void {
    encoder.resolveQuerySet(this.querySet, 0, 2 * this.count, this.resolved, 0);
    encoder.copyBufferToBuffer(this.resolved, 0, this.readable, 0, 16 * this.count);
  }

  async read(labels: string[], into: ProfileCollector): Promise<void> {
    await this.readable.mapAsync(GPUMapMode.READ);
    const ns = new BigUint64Array(this.readable.getMappedRange());
    // Nanoseconds; a pair the implementation could not order reads as zero rather than negative.
    labels.forEach((label, i) => {
      into.add(label, Math.max(0, Number(ns[2 * i + 1]! - ns[2 * i]!)) / 1e6);
    });
    this.readable.unmap();
    for (const b of [this.readable, this.resolved]) b.destroy();
    this.querySet.destroy();
  }
}
