import type * as C from './control.js';

/** What a worker thread is started with (its only message). */
export interface WorkerInit {
  memory: WebAssembly.Memory;
  /** Byte address of the control block. */
  control: number;
  thread: number;
  threads: number;
  /** The control block's layout (`control.ts`), so the program below names no constant twice. */
  layout: typeof C;
}

/**
 * A worker thread's program, as source text for `new Worker` (Node: an `eval` worker, where
 * `require` is in scope; browsers: a classic worker from a blob URL). It is plain JavaScript in
 * a string rather than a stringified function because TypeScript transpilers may wrap a
 * function's body in helpers that do not exist in the worker.
 *
 * It waits for its `WorkerInit`, says it is ready, then serves commands from the control block
 * until told to exit: it blocks in `Atomics.wait` between commands, compiles modules from bytes
 * in the shared memory, runs its share of each call, records the first error, and acknowledges.
 */
export const workerSource = `
const port = typeof require === 'function' ? require('node:worker_threads').parentPort : undefined;
const post = (m) => (port ? port.postMessage(m) : postMessage(m));
function serve({ memory, control, thread, threads, layout: L }) {
  const ctl = new Int32Array(memory.buffer, control, L.ARGS_AT / 4);
  const args = new Float64Array(memory.buffer, control + L.ARGS_AT, L.MAX_ARGS);
  const modules = [];
  const imports = { env: { memory, abort: () => { throw new Error('abort() called'); } } };
  post('ready');
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, L.SEQ, seen);
    seen = Atomics.load(ctl, L.SEQ);
    const cmd = ctl[L.CMD];
    if (cmd === L.EXIT) return;
    try {
      if (cmd === L.LOAD) {
        // slice() copies out of the shared memory: modules compile from unshared bytes.
        const bytes = new Uint8Array(memory.buffer, ctl[L.LOAD_AT] >>> 0, ctl[L.LOAD_LENGTH]).slice();
        const module = new WebAssembly.Module(bytes);
        const instance = new WebAssembly.Instance(module, imports);
        modules[ctl[L.MODULE]] = WebAssembly.Module.exports(module)
          .filter((e) => e.kind === 'function')
          .map((e) => instance.exports[e.name]);
      } else {
        modules[ctl[L.MODULE]][ctl[L.ENTRY]](thread, threads, ...args.subarray(0, ctl[L.NARGS]));
      }
    } catch (e) {
      if (Atomics.compareExchange(ctl, L.FAILED, 0, thread + 1) === 0) {
        const text = new TextEncoder().encode(String(e && e.message ? e.message : e));
        const length = Math.min(text.length, L.ERROR_BYTES);
        new Uint8Array(memory.buffer, control + L.ERROR_AT, length).set(text.subarray(0, length));
        ctl[L.ERROR_LENGTH] = length;
      }
    }
    if (Atomics.add(ctl, L.DONE, 1) === threads - 2) Atomics.notify(ctl, L.DONE);
  }
}
if (port) port.once('message', serve);
else onmessage = (e) => { onmessage = null; serve(e.data); };
`;
