/**
 * The control block through which the calling thread hands commands to the worker threads: a
 * few i32 words, the call's arguments as f64 and room for an error message, at a fixed place in
 * the shared wasm memory. One command is in flight at a time.
 *
 * A call (RUN) is cut into `TASKS` tasks that any thread claims from the counter `NEXT`, the
 * caller included: a worker the operating system has not scheduled yet simply claims none and
 * the caller runs them, so the caller waits on a worker only for a task that worker claimed.
 * Workers join a call only while it is `OPEN`, counted in `ACTIVE`, and the caller waits for
 * those alone. A module load (LOAD) is done by every worker, counted in `DONE`.
 */

/** i32 word indices of the control block. */
export const SEQ = 0; // bumped for each command; workers wait on it
export const CMD = 1;
export const MODULE = 2;
export const ENTRY = 3;
export const NARGS = 4;
export const TASKS = 5;
export const NEXT = 6; // the next unclaimed task
export const OPEN = 7; // 1 while workers may join the current call
export const ACTIVE = 8; // workers inside the current call
export const DONE = 9; // workers that finished the current load
export const FAILED = 10; // 1 + the first task that threw, or 0
export const ERROR_LENGTH = 11;
export const LOAD_AT = 12; // address and length of a module's bytes to load
export const LOAD_LENGTH = 13;

/** Commands. */
export const RUN = 1;
export const LOAD = 2;
export const EXIT = 3;

/** Byte offsets within the block. */
export const ARGS_AT = 64;
export const MAX_ARGS = 32;
export const ERROR_AT = ARGS_AT + 8 * MAX_ARGS;
export const ERROR_BYTES = 256;
export const CONTROL_BYTES = ERROR_AT + ERROR_BYTES;
