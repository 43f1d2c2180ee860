/**
 * Checks that kernels make on their input data — an index within its dimension, a class target
 * within [0, classes) — with one error message for both backends. The CPU reference throws at
 * once. A WebGPU kernel cannot throw: it records the first failure in the device's check buffer
 * (a code naming the op and the kind of check, the offending value and the bound), and the host
 * raises that error at the next read-back or `sync()`, so a training step never waits on the GPU
 * just to check its indices.
 */

/** What a kernel checks: an index within its dimension, or a class target within [0, classes). */
export type CheckKind = 'index' | 'target';

/** How a failed check reads. */
const MESSAGES: Record<CheckKind, (op: string, value: number, bound: number) => string> = {
  index: (op: string, value: number, bound: number) =>
    `${op}: index ${value} is out of range for a dimension of size ${bound}`,
  target: (op: string, value: number, bound: number) =>
    `${op}: target ${value} is out of range for ${bound} classes (expected 0 <= target < ${bound}, or the ignore index)`,
};

/** The error a failed check raises, on either backend. */
export function checkError(kind: CheckKind, op: string, value: number, bound: number): RangeError {
  return new RangeError(MESSAGES[kind](op, value, bound));
}

const codes = new Map<string, number>();
const byCode: [CheckKind, string][] = [];

/** The code (never 0) a kernel writes for a failed `kind` check in `op`; stable within a process. */
export function checkCode(kind: CheckKind, op: string): number {
  const key = `${kind}:${op}`;
  let code = codes.get(key);
  if (code === undefined) {
    byCode.push([kind, op]);
    code = byCode.length;
    codes.set(key, code);
  }
  return code;
}

/** The error recorded in a check buffer's words [code, value (i32 bits), bound], if any. */
export function recordedError(words: Uint32Array): RangeError | undefined {
  const entry = byCode[words[0]! - 1];
  if (!entry) return undefined;
  return checkError(entry[0], entry[1], words[1]! | 0, words[2]!);
}

/** Bytes of the device's check buffer: code, value, bound, and a spare word. */
export const CHECK_BYTES = 16;

/**
 * WGSL for a kernel that checks its data: the check buffer at `binding` (the one after the
 * uniforms) and `report(code, value, bound)`, which keeps the first failure of the batch.
 */
export function checkWgsl(binding: number): string {
  return `@group(0) @binding(${binding}) var<storage, read_write> checks: array<atomic<u32>, 4>;
fn report(code: u32, value: i32, bound: u32) {
  loop {
    let r = atomicCompareExchangeWeak(&checks[0], 0u, code);
    if (r.exchanged) {
      atomicStore(&checks[1], bitcast<u32>(value));
      atomicStore(&checks[2], bound);
      return;
    }
    if (r.old_value != 0u) { return; }
  }
}
`;
}
