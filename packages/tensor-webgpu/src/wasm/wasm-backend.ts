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
import { fillHost, runReference } from '../cpu/cpu-backend.js';
import type { DType } from '../dtype.js';
import type { ProfileCollector } from '../profile.js';
import { CONTROL_BYTES } from './control.js';
import { CORE_KERNELS } from './core-kernels.js';
import { MemoryPool } from './memory-pool.js';
import { ThreadPool } from './thread-pool.js';
import type { WasmContext, WasmModule, WasmTensor } from './wasm-kernel.js';

/** Raised where the wasm backend cannot run: no shared memory, no SIMD or no threads. */
export class WasmUnavailableError extends Error {
  constructor(detail: string) {
    super(`the wasm backend is unavailable (${detail})`);
    this.name = 'WasmUnavailableError';
  }
}

export interface WasmStorage extends Storage {
  /** Byte address in the wasm memory. */
  readonly address: number;
  /** Bytes of the pooled block (its size class). */
  readonly size: number;
}

/** A module instantiated on every thread of one device. */
interface LoadedModule {
  readonly id: number;
  readonly entries: ReadonlyMap<string, number>;
  readonly kernels: readonly ((...args: number[]) => void)[];
}

/** Where the control block lives; tensors start at 64 KiB, past it. */
const CONTROL_AT = 64;
const HEAP_AT = 65536;
if (CONTROL_AT + CONTROL_BYTES > HEAP_AT) throw new Error('the control block overlaps the heap');
/** The most a wasm32 memory addresses: 65536 pages of 64 KiB. */
const MAX_PAGES = 65536;

/** Compiled modules, shared by every device of the process. */
const compiled = new WeakMap<WasmModule, WebAssembly.Module>();
/** Compiles started in the background where synchronous compiles are refused (a browser's main thread). */
const compiling = new Map<WasmModule, Promise<void>>();

/** Thrown by `call` for a module still compiling in the background: the CPU reference stands in. */
const NOT_READY = Symbol('module not ready');

/**
 * The wasm backend: tensors live in one shared WebAssembly memory, ops run wasm SIMD kernels on
 * the calling thread and worker threads at once (synchronously, like the CPU reference), and an
 * op without a wasm kernel runs its CPU reference over views of the same memory.
 */
export class WasmBackend implements Backend {
  readonly info: DeviceInfo;
  readonly timing = 'cpu-clock';
  profiler: ProfileCollector | undefined;
  private readonly pool: MemoryPool;
  private readonly modules = new Map<WasmModule, LoadedModule>();
  private readonly imports: WebAssembly.Imports;
  private scratchBlocks: { address: number; size: number }[] = [];
  private views: { f32: Float32Array; i32: Int32Array; u32: Uint32Array } | undefined;
  private liveBytes = 0;
  private peakBytes = 0;
  private dispatches = 0;
  private readonly context: WasmContext;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly threadPool: ThreadPool | undefined,
  ) {
    this.pool = new MemoryPool(memory, HEAP_AT);
    this.imports = {
      env: {
        memory,
        abort: () => {
          throw new Error('abort() called');
        },
      },
    };
    const threads = this.threads;
    this.info = {
      backend: 'wasm',
      adapter: `wasm-simd128 (${threads} thread${threads === 1 ? '' : 's'})`,
      vendor: 'tessera',
      architecture: 'wasm32',
      features: ['simd128', 'threads'],
      limits: { threads, maxMemoryBytes: MAX_PAGES * 65536 },
      f16: true,
      subgroups: false,
      software: true,
    };
    this.context = {
      tasks: this.threadPool?.tasks ?? 1,
      call: (module, entry, args, parallel = true) => this.call(module, entry, args, parallel),
      scratch: (bytes) => this.scratch(bytes),
      table: (values) => {
        const address = this.scratch(4 * values.length);
        new Int32Array(this.memory.buffer, address, values.length).set(values);
        return address;
      },
      words: (address, length) => new Int32Array(this.memory.buffer, address, length),
    };
  }

  /** Threads a parallel kernel runs on, the calling thread included. */
  get threads(): number {
    return this.threadPool?.threads ?? 1;
  }

  allocate(dtype: DType, length: number, values?: ArrayLike<number>): WasmStorage {
    // f16 is held as f32 values rounded to half precision, as on the CPU reference.
    const bytes = length * 4;
    const { address, size } = this.pool.acquire(bytes);
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    const storage = { address, size, bytes, refs: 1 };
    if (values) fillHost(this.host(dtype, storage), dtype, values);
    return storage;
  }

  free(storage: Storage): void {
    const { address, size } = storage as WasmStorage;
    this.liveBytes -= size;
    this.pool.release(address, size);
  }

  run<P>(
    kernel: KernelRunner<P>,
    inputs: readonly BoundTensor[],
    outputs: readonly BoundTensor[],
    params: P,
  ): void {
    this.dispatches++;
    const profiler = this.profiler;
    if (kernel.wasm) {
      const wasm = kernel.wasm.bind(kernel);
      // The layout's fields alone (a Tensor carries many more, which a spread would copy).
      const placed = ({ layout: l, storage }: BoundTensor): WasmTensor => ({
        shape: l.shape,
        strides: l.strides,
        offset: l.offset,
        dtype: l.dtype,
        address: (storage as WasmStorage).address,
      });
      const ins = inputs.map(placed);
      const outs = outputs.map(placed);
      let ran = false;
      const go = () => {
        ran = this.runHook(() => wasm(ins, outs, params, this.context));
      };
      if (profiler) {
        const dtype = outputs[0]?.layout.dtype ?? inputs[0]?.layout.dtype ?? '';
        const t0 = performance.now();
        go();
        if (ran) profiler.add(`${kernel.name ?? 'kernel'}:${dtype}`, performance.now() - t0);
      } else go();
      if (ran) return;
    }
    const host = (t: BoundTensor): CpuTensor => ({
      ...t.layout,
      data: this.host(t.layout.dtype, t.storage as WasmStorage),
    });
    // The reference's label says which ops still lack a wasm kernel.
    runReference(kernel, inputs.map(host), outputs.map(host), params, profiler, ':reference');
  }

  async read(storage: Storage, dtype: DType, offset: number, length: number): Promise<HostArray> {
    // `slice` copies into an unshared array the caller owns.
    return this.host(dtype, storage as WasmStorage).slice(offset, offset + length);
  }

  /** Kernels run synchronously; this waits for modules still compiling in the background. */
  async sync(): Promise<void> {
    await Promise.all(compiling.values());
  }

  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  stats(): BackendStats {
    return {
      liveBytes: this.liveBytes,
      peakBytes: this.peakBytes,
      pooledBytes: this.pool.pooledBytes,
      buffersCreated: this.pool.created,
      pipelinesCompiled: this.modules.size,
      dispatches: this.dispatches,
      submits: 0,
    };
  }

  destroy(): void {
    this.threadPool?.destroy();
  }

  private scratch(bytes: number): number {
    const block = this.pool.acquire(bytes);
    this.scratchBlocks.push(block);
    return block.address;
  }

  /** Runs an op's wasm hook; false when it declined or a module it needs is still compiling. */
  private runHook(hook: () => boolean | undefined): boolean {
    try {
      return hook() !== false;
    } catch (e) {
      if (e === NOT_READY) return false;
      throw e;
    } finally {
      for (const block of this.scratchBlocks) this.pool.release(block.address, block.size);
      this.scratchBlocks = [];
    }
  }

  private call(
    module: WasmModule,
    entry: string,
    args: readonly number[],
    parallel: boolean,
  ): void {
    const loaded = this.load(module);
    const index = loaded.entries.get(entry);
    if (index === undefined)
      throw new Error(`wasm module ${module.name} has no exported kernel '${entry}'`);
    const kernel = loaded.kernels[index]!;
    const pool = parallel ? this.threadPool : undefined;
    try {
      if (pool) pool.run(kernel, loaded.id, index, args);
      else kernel(0, 1, ...args);
    } catch (e) {
      throw new Error(`wasm kernel ${module.name}.${entry} failed: ${(e as Error).message}`);
    }
  }

  /** The module instantiated on every thread (compiled on first use). */
  private load(module: WasmModule): LoadedModule {
    const have = this.modules.get(module);
    if (have) return have;
    const wasm = compileNow(module);
    const instance = new WebAssembly.Instance(wasm, this.imports);
    const names = WebAssembly.Module.exports(wasm)
      .filter((e) => e.kind === 'function')
      .map((e) => e.name);
    const id = this.modules.size;
    if (this.threadPool) {
      // Workers compile from the bytes, handed over through the shared memory.
      const bytes = module.bytes();
      const block = this.pool.acquire(bytes.length);
      new Uint8Array(this.memory.buffer, block.address, bytes.length).set(bytes);
      try {
        this.threadPool.load(id, block.address, bytes.length);
      } finally {
        this.pool.release(block.address, block.size);
      }
    }
    const loaded: LoadedModule = {
      id,
      entries: new Map(names.map((name, i) => [name, i])),
      kernels: names.map((name) => instance.exports[name] as (...args: number[]) => void),
    };
    this.modules.set(module, loaded);
    return loaded;
  }

  /** A typed view of a storage (f16 as its f32 values). */
  private host(dtype: DType, storage: WasmStorage): HostArray {
    const buffer = this.memory.buffer;
    if (this.views?.f32.buffer !== buffer || this.views.f32.length * 4 !== buffer.byteLength) {
      this.views = {
        f32: new Float32Array(buffer),
        i32: new Int32Array(buffer),
        u32: new Uint32Array(buffer),
      };
    }
    const view =
      dtype === 'i32' ? this.views.i32 : dtype === 'u32' ? this.views.u32 : this.views.f32;
    const start = storage.address / 4;
    return view.subarray(start, start + storage.bytes / 4);
  }
}

/**
 * The compiled module, compiling it now if this thread may compile synchronously; where it may
 * not (a browser's main thread refuses large synchronous compiles), the compile starts in the
 * background and `NOT_READY` is thrown, so the op's CPU reference runs this time.
 */
function compileNow(module: WasmModule): WebAssembly.Module {
  const done = compiled.get(module);
  if (done) return done;
  if (!compiling.has(module)) {
    try {
      const wasm = new WebAssembly.Module(module.bytes());
      compiled.set(module, wasm);
      return wasm;
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      compileLater(module);
    }
  }
  throw NOT_READY;
}

function compileLater(module: WasmModule): Promise<void> {
  let pending = compiling.get(module);
  if (!pending) {
    pending = WebAssembly.compile(module.bytes()).then(
      (wasm) => {
        compiled.set(module, wasm);
        compiling.delete(module);
      },
      (e: unknown) => {
        compiling.delete(module);
        throw e;
      },
    );
    compiling.set(module, pending);
  }
  return pending;
}

/**
 * A wasm backend on `threads` threads (default: every core), or a `WasmUnavailableError` where
 * this runtime lacks WebAssembly SIMD, threads or shared memory (a browser page that is not
 * cross-origin isolated).
 */
export async function createWasmBackend(options: { threads?: number } = {}): Promise<WasmBackend> {
  const scope = globalThis as { crossOriginIsolated?: boolean };
  if (typeof WebAssembly !== 'object') throw new WasmUnavailableError('no WebAssembly');
  if (typeof SharedArrayBuffer !== 'function' || scope.crossOriginIsolated === false)
    throw new WasmUnavailableError(
      'no SharedArrayBuffer: a browser page needs cross-origin isolation (COOP/COEP headers)',
    );
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
  } catch (e) {
    throw new WasmUnavailableError(`no shared WebAssembly memory: ${(e as Error).message}`);
  }
  try {
    await compileLater(CORE_KERNELS);
  } catch (e) {
    throw new WasmUnavailableError(
      `the kernels need WebAssembly SIMD and threads: ${(e as Error).message}`,
    );
  }
  const threads = options.threads ?? (await cores());
  const pool = threads > 1 ? await ThreadPool.start(memory, CONTROL_AT, threads) : undefined;
  return new WasmBackend(memory, pool);
}

/** The cores this program may use. */
async function cores(): Promise<number> {
  if (typeof process !== 'undefined' && process.versions?.node) {
    const specifier = 'node:os';
    const os = (await import(/* @vite-ignore */ specifier)) as typeof import('node:os');
    return os.availableParallelism();
  }
  return (
    (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
      ?.hardwareConcurrency ?? 1
  );
}
