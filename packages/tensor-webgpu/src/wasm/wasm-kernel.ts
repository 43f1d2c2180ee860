import type { TensorLayout } from '../backend.js';

/**
 * A WebAssembly module of kernels, as an op's `wasm` hook names it. The wasm backend compiles it
 * once per process and instantiates it on every thread over the device's one shared memory.
 *
 * The module's contract:
 * - it imports its memory as `env.memory` (shared, maximum 65536 pages) and may import
 *   `env.abort`; nothing else;
 * - it keeps no data in linear memory (no data segments, no static buffers): every address it
 *   touches comes in as an argument, since modules of several packages share the memory;
 * - each exported kernel takes `(task: i32, tasks: i32, ...args)` and does share `task` of the
 *   work cut into `tasks` shares; every task gets the same `args`. A parallel call is cut into a
 *   few tasks per thread (`WasmContext.tasks`), claimed by whichever threads are awake (the
 *   caller included), never two at once with the same index — so a kernel may index per-task
 *   scratch by `task`.
 *
 * The repository's `scripts/build-wasm.ts` builds such modules from AssemblyScript (the tensor
 * core's are in its `assembly/` folder) into a TypeScript module holding the bytes as base64.
 *
 * @example
 * ```ts
 * import { WASM_BASE64 } from './kernels.generated.js';
 * const kernels = defineWasmModule('my-package', () =>
 *   Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0)),
 * );
 * ```
 */
export interface WasmModule {
  /** Names the module in errors and profiles. */
  readonly name: string;
  /** The module's bytes; asked for once, when the first device needs the module. */
  readonly bytes: () => Uint8Array<ArrayBuffer>;
}

/** Declares a module of wasm kernels; `bytes` is called once, when a device first needs it. */
export function defineWasmModule(name: string, bytes: () => Uint8Array<ArrayBuffer>): WasmModule {
  let cached: Uint8Array<ArrayBuffer> | undefined;
  return {
    name,
    bytes: () => {
      cached ??= bytes();
      return cached;
    },
  };
}

/** A tensor as a wasm kernel sees it: its layout and where its storage starts in the wasm memory. */
export interface WasmTensor extends TensorLayout {
  /** Byte address of the storage's element 0; the tensor's first element is `offset` elements on. */
  readonly address: number;
}

/** What an op's `wasm` hook may do on the wasm backend. */
export interface WasmContext {
  /** Tasks a parallel `call` is cut into (a few per thread; 1 on one thread). */
  readonly tasks: number;
  /**
   * Runs the export `entry(task, tasks, ...args)` of `module` for every task and returns when
   * all have finished: `tasks` tasks over every thread when `parallel` (the default), else one
   * task on the calling thread (`task` 0 of 1). Arguments are numbers (addresses, sizes,
   * scalars), converted to the export's parameter types.
   *
   * @throws Error - the kernel trapped (naming the module and the entry)
   */
  call(module: WasmModule, entry: string, args: readonly number[], parallel?: boolean): void;
  /** The byte address of `bytes` of temporary memory (64-byte aligned), freed when the op returns. */
  scratch(bytes: number): number;
  /** Copies `values` into temporary memory as i32 words (shapes, strides); returns its address. */
  table(values: readonly number[]): number;
  /** The i32 words at `address` (a kernel's report, say), as a view valid until memory grows. */
  words(address: number, length: number): Int32Array;
}

/**
 * Scalar operations (additions, multiplications, loads) below which a kernel is better run on
 * one thread (`call(…, false)`): waking the workers costs tens of microseconds.
 */
export const PARALLEL_MIN_WORK = 1 << 18;
