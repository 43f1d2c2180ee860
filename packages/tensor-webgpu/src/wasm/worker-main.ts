import type * as C from './control.js';

/** What a worker thread is started with (its only message). */
export interface WorkerInit {
  memory: WebAssembly.Memory;
  /** Byte address of the control block. */
  control: number;
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
 * (`control.ts`) until told to exit: it blocks in `Atomics.wait` between commands, compiles
 * modules from bytes in the shared memory, joins open calls and claims their tasks, and records
 * the first error.
 */
export const workerSource = `
const port = typeof require === 'function' ? require('node:worker_threads').parentPort : undefined;
const post = (m) => (port ? port.postMessage(m) : postMessage(m));
function serve({ memory, control, layout: L }) {
  const ctl = new Int32Array(memory.buffer, control, L.ARGS_AT / 4);
  const args = new Float64Array(memory.buffer, control + L.ARGS_AT, L.MAX_ARGS);
  const modules = [];
  const imports = { env: { memory, abort: () => { throw new Error('abort() called'); } } };
  const fail = (task, e) => {
    if (Atomics.compareExchange(ctl, L.FAILED, 0, task + 1) !== 0) return;
    const text = new TextEncoder().encode(String(e && e.message ? e.message : e));
    const length = Math.min(text.length, L.ERROR_BYTES);
    new Uint8Array(memory.buffer, control + L.ERROR_AT, length).set(text.subarray(0, length));
    ctl[L.ERROR_LENGTH] = length;
  };
  post('ready');
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, L.SEQ, seen);
    seen = Atomics.load(ctl, L.SEQ);
    const cmd = Atomics.load(ctl, L.CMD);
    if (cmd === L.EXIT) return;
    if (cmd === L.LOAD) {
      try {
        // slice() copies out of the shared memory: modules compile from unshared bytes.
        const bytes = new Uint8Array(memory.buffer, ctl[L.LOAD_AT] >>> 0, ctl[L.LOAD_LENGTH]).slice();
        const module = new WebAssembly.Module(bytes);
        const instance = new WebAssembly.Instance(module, imports);
        modules[ctl[L.MODULE]] = WebAssembly.Module.exports(module)
          .filter((e) => e.kind === 'function')
          .map((e) => instance.exports[e.name]);
      } catch (e) {
        fail(0, e);
      }
      Atomics.add(ctl, L.DONE, 1);
      Atomics.notify(ctl, L.DONE);
      continue;
    }
    // A call: join only while it is open (the caller may have finished it alone already).
    Atomics.add(ctl, L.ACTIVE, 1);
    if (Atomics.load(ctl, L.OPEN) === 1) {
      const kernel = modules[ctl[L.MODULE]][ctl[L.ENTRY]];
      const tasks = ctl[L.TASKS];
      const given = Array.from(args.subarray(0, ctl[L.NARGS]));
      for (let task = Atomics.add(ctl, L.NEXT, 1); task < tasks; task = Atomics.add(ctl, L.NEXT, 1)) {
        try {
          kernel(task, tasks, ...given);
        } catch (e) {
          fail(task, e);
        }
      }
    }
    if (Atomics.sub(ctl, L.ACTIVE, 1) === 1) Atomics.notify(ctl, L.ACTIVE);
  }
}
if (port) port.once('message', serve);
else onmessage = (e) => { onmessage = null; serve(e.data); };
`;
