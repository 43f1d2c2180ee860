/**
 * The control block through which the calling thread hands commands to the worker threads: a
 * few i32 words, the call's arguments as f64 and room for an error message, at a fixed place in
 * the shared wasm memory. One command is in flight at a time; every worker acknowledges each.
 */

/** i32 word indices of the control block. */
export const SEQ = 0; // bumped for each command; workers wait on it
export const DONE = 1; // workers that finished the current command
export const CMD = 2;
export const MODULE = 3;
export const ENTRY = 4;
export const NARGS = 5;
export const FAILED = 6; // 1 + the first thread that threw, or 0
export const LOAD_AT = 7; // address and length of a module's bytes to load
export const LOAD_LENGTH = 8;
export const ERROR_LENGTH = 9;

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
