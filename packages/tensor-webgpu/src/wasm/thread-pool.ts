import * as C from './control.js';
import { type WorkerInit, workerSource } from './worker-main.js';

/** A started worker: Node's `worker_threads.Worker` or a browser `Worker`. */
interface AnyWorker {
  postMessage(message: unknown): void;
  terminate(): unknown;
}

/**
 * The worker threads of a wasm device and the calling thread, which computes too: a parallel call
 * runs as thread 0 on the caller and threads 1..n-1 on the workers. Commands go through the
 * control block in the shared memory; the caller waits for the workers' acknowledgement with
 * `Atomics.wait` where it may block (Node, workers) and spins where it may not (a browser's main
 * thread).
 */
export class ThreadPool {
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly canBlock: boolean;

  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly control: number,
    private readonly workers: readonly AnyWorker[],
  ) {
    this.ctl = new Int32Array(memory.buffer, control, C.ARGS_AT / 4);
    this.args = new Float64Array(memory.buffer, control + C.ARGS_AT, C.MAX_ARGS);
    this.canBlock = mayBlock(this.ctl);
  }

  /** Starts `threads - 1` workers over `memory` and waits until each is ready. */
  static async start(
    memory: WebAssembly.Memory,
    control: number,
    threads: number,
  ): Promise<ThreadPool> {
    const workers: AnyWorker[] = [];
    const ready: Promise<void>[] = [];
    for (let thread = 1; thread < threads; thread++) {
      const { worker, firstMessage } = await spawn();
      const init: WorkerInit = { memory, control, thread, threads, layout: { ...C } };
      worker.postMessage(init);
      workers.push(worker);
      ready.push(firstMessage);
    }
    await Promise.all(ready);
    return new ThreadPool(memory, control, workers);
  }

  /** Threads of a parallel call, the caller included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Has every worker compile and instantiate the module whose bytes lie at `at` in the shared
   * memory, as module number `id`. Returns when all have; throws what a worker threw.
   */
  load(id: number, at: number, length: number): void {
    this.ctl[C.MODULE] = id;
    this.ctl[C.LOAD_AT] = at;
    this.ctl[C.LOAD_LENGTH] = length;
    this.command(C.LOAD);
    this.finish();
  }

  /**
   * Starts `entry` of module `id` on the workers (as threads 1..n-1); the caller then runs its own
   * share and calls `finish`.
   */
  begin(id: number, entry: number, args: readonly number[]): void {
    if (args.length > C.MAX_ARGS)
      throw new RangeError(
        `a wasm kernel takes at most ${C.MAX_ARGS} arguments, got ${args.length}`,
      );
    this.ctl[C.MODULE] = id;
    this.ctl[C.ENTRY] = entry;
    this.ctl[C.NARGS] = args.length;
    this.args.set(args);
    this.command(C.RUN);
  }

  /** Waits until every worker has acknowledged the command; throws what one threw. */
  finish(): void {
    const want = this.workers.length;
    for (;;) {
      const done = Atomics.load(this.ctl, C.DONE);
      if (done === want) break;
      if (this.canBlock) Atomics.wait(this.ctl, C.DONE, done);
    }
    const failed = Atomics.load(this.ctl, C.FAILED);
    if (failed !== 0) {
      const bytes = new Uint8Array(
        this.memory.buffer,
        this.control + C.ERROR_AT,
        this.ctl[C.ERROR_LENGTH],
      );
      throw new Error(`thread ${failed - 1}: ${new TextDecoder().decode(bytes.slice())}`);
    }
  }

  /** Stops the workers. */
  destroy(): void {
    this.ctl[C.CMD] = C.EXIT;
    Atomics.add(this.ctl, C.SEQ, 1);
    Atomics.notify(this.ctl, C.SEQ);
    for (const w of this.workers) w.terminate();
  }

  private command(cmd: number): void {
    this.ctl[C.CMD] = cmd;
    Atomics.store(this.ctl, C.FAILED, 0);
    Atomics.store(this.ctl, C.DONE, 0);
    // The bump publishes the fields written above (sequentially consistent atomics).
    Atomics.add(this.ctl, C.SEQ, 1);
    Atomics.notify(this.ctl, C.SEQ);
  }
}

/** Whether this thread may block in `Atomics.wait` (a browser's main thread may not). */
function mayBlock(ctl: Int32Array): boolean {
  try {
    // Returns 'not-equal' at once where blocking is allowed; throws where it is not.
    Atomics.wait(ctl, C.DONE, Atomics.load(ctl, C.DONE) + 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts one worker from `workerSource`; `firstMessage` resolves at its first message ('ready'). */
async function spawn(): Promise<{ worker: AnyWorker; firstMessage: Promise<void> }> {
  if (typeof process !== 'undefined' && process.versions?.node) {
    // A variable specifier keeps browser bundlers from resolving the Node module.
    const specifier = 'node:worker_threads';
    const { Worker } = (await import(
      /* @vite-ignore */ specifier
    )) as typeof import('node:worker_threads');
    const worker = new Worker(workerSource, { eval: true });
    // Workers blocked in Atomics.wait must not keep the process alive.
    worker.unref();
    const firstMessage = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return { worker, firstMessage };
  }
  const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
  const worker = new Worker(url);
  const firstMessage = new Promise<void>((resolve, reject) => {
    worker.onmessage = () => resolve();
    worker.onerror = (e) => reject(new Error(e.message));
  });
  const revoke = () => URL.revokeObjectURL(url);
  firstMessage.then(revoke, revoke);
  return { worker, firstMessage };
}
