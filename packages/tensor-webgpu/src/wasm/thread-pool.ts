import * as C from './control.js';
import { type WorkerInit, workerSource } from './worker-main.js';

/** A started worker: Node's `worker_threads.Worker` or a browser `Worker`. */
interface AnyWorker {
  postMessage(message: unknown): void;
  terminate(): unknown;
}

/** Tasks a parallel call is cut into, per thread: a worker preempted mid-task holds back little. */
const TASKS_PER_THREAD = 4;

/**
 * The worker threads of a wasm device and the calling thread, which computes too. A call is cut
 * into a few tasks per thread; the caller and the workers claim tasks until none are left, so
 * the caller finishes alone when the workers are slow to wake (a loaded machine), and waits only
 * for the tasks workers are running. Commands go through the control block in the shared memory
 * (`control.ts`); the caller waits with `Atomics.wait` where it may block (Node, workers) and
 * spins where it may not (a browser's main thread).
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
      const init: WorkerInit = { memory, control, layout: { ...C } };
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

  /** Tasks a parallel call is cut into. */
  get tasks(): number {
    return TASKS_PER_THREAD * this.threads;
  }

  /**
   * Has every worker compile and instantiate the module whose bytes lie at `at` in the shared
   * memory, as module number `id`. Returns when all have; throws what a worker threw.
   */
  load(id: number, at: number, length: number): void {
    this.ctl[C.MODULE] = id;
    this.ctl[C.LOAD_AT] = at;
    this.ctl[C.LOAD_LENGTH] = length;
    Atomics.store(this.ctl, C.DONE, 0);
    this.command(C.LOAD);
    this.waitFor(C.DONE, (done) => done === this.workers.length);
    this.raise();
  }

  /**
   * Runs `kernel(task, tasks, ...args)` for every task, on the caller (`kernel`, the caller's
   * instance of export `entry` of module `id`) and on the workers that join; returns when all
   * tasks are done. Throws what a task threw, naming the task.
   */
  run(
    kernel: (...args: number[]) => void,
    id: number,
    entry: number,
    args: readonly number[],
  ): void {
    if (args.length > C.MAX_ARGS)
      throw new RangeError(
        `a wasm kernel takes at most ${C.MAX_ARGS} arguments, got ${args.length}`,
      );
    const ctl = this.ctl;
    const tasks = this.tasks;
    ctl[C.MODULE] = id;
    ctl[C.ENTRY] = entry;
    ctl[C.NARGS] = args.length;
    ctl[C.TASKS] = tasks;
    this.args.set(args);
    Atomics.store(ctl, C.NEXT, 0);
    Atomics.store(ctl, C.OPEN, 1);
    this.command(C.RUN);
    let thrown: unknown;
    let failedTask = -1;
    for (let task = Atomics.add(ctl, C.NEXT, 1); task < tasks; task = Atomics.add(ctl, C.NEXT, 1)) {
      try {
        kernel(task, tasks, ...args);
      } catch (e) {
        if (failedTask < 0) [thrown, failedTask] = [e, task];
      }
    }
    // No worker joins from here on; those inside finish their tasks.
    Atomics.store(ctl, C.OPEN, 0);
    this.waitFor(C.ACTIVE, (active) => active === 0);
    if (failedTask >= 0) throw new Error(`task ${failedTask}: ${(thrown as Error).message}`);
    this.raise();
  }

  /** Stops the workers. */
  destroy(): void {
    Atomics.store(this.ctl, C.CMD, C.EXIT);
    Atomics.add(this.ctl, C.SEQ, 1);
    Atomics.notify(this.ctl, C.SEQ);
    for (const w of this.workers) w.terminate();
  }

  private command(cmd: number): void {
    Atomics.store(this.ctl, C.FAILED, 0);
    // The command word and the bump publish the fields written before (sequentially consistent).
    Atomics.store(this.ctl, C.CMD, cmd);
    Atomics.add(this.ctl, C.SEQ, 1);
    Atomics.notify(this.ctl, C.SEQ);
  }

  /** Waits until word `index` satisfies `ready`, blocking between changes where allowed. */
  private waitFor(index: number, ready: (value: number) => boolean): void {
    for (;;) {
      const value = Atomics.load(this.ctl, index);
      if (ready(value)) return;
      if (this.canBlock) Atomics.wait(this.ctl, index, value);
    }
  }

  /** Throws the error a worker recorded for the last command, if any. */
  private raise(): void {
    const failed = Atomics.load(this.ctl, C.FAILED);
    if (failed === 0) return;
    const bytes = new Uint8Array(
      this.memory.buffer,
      this.control + C.ERROR_AT,
      this.ctl[C.ERROR_LENGTH],
    );
    throw new Error(`task ${failed - 1}: ${new TextDecoder().decode(bytes.slice())}`);
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
    // No inherited flags: `--input-type=module` would make the eval worker an ES module, where
    // the program's `require` does not exist; loaders (tsx) are not needed for plain JavaScript.
    const worker = new Worker(workerSource, { eval: true, execArgv: [] });
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
