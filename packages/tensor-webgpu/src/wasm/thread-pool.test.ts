import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileKernels } from '../../scripts/build-wasm.js';
import { ThreadPool } from './thread-pool.js';

/** Each thread marks its slot with thread + 1 and copies its argument; `fail` traps on one thread. */
const SOURCE = `
export function mark(thread: i32, threads: i32, out: usize, value: f64): void {
  store<i32>(out + <usize>thread * 4, thread + 1);
  store<f64>(out + 64 + <usize>thread * 8, value);
}
export function fail(thread: i32, threads: i32, on: i32): void {
  if (thread == on) unreachable();
}
`;

const THREADS = 3;
const CONTROL = 64;
const memory = new WebAssembly.Memory({ initial: 4, maximum: 65536, shared: true });
let pool: ThreadPool;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pool-'));
  writeFileSync(join(dir, 'pool.ts'), SOURCE);
  const bytes = await compileKernels(join(dir, 'pool.ts'));
  pool = await ThreadPool.start(memory, CONTROL, THREADS);
  // The module's bytes go to the workers through the shared memory.
  new Uint8Array(memory.buffer, 4096, bytes.length).set(bytes);
  pool.load(0, 4096, bytes.length);
});
afterAll(() => pool.destroy());

describe('ThreadPool', () => {
  it('runs a call on every worker thread with the same arguments', () => {
    const out = 65536;
    new Int32Array(memory.buffer, out, 16).fill(0);
    // Exports in declaration order: mark is 0.
    pool.begin(0, 0, [out, 2.5]);
    pool.finish();
    expect([...new Int32Array(memory.buffer, out, THREADS)]).toEqual([0, 2, 3]);
    expect([...new Float64Array(memory.buffer, out + 64, THREADS)]).toEqual([0, 2.5, 2.5]);
    expect(pool.threads).toBe(THREADS);
  });

  it('raises what a worker threw, naming the thread, and keeps serving', () => {
    pool.begin(0, 1, [2]);
    expect(() => pool.finish()).toThrow(/^thread 2: unreachable/);
    pool.begin(0, 1, [-1]);
    expect(() => pool.finish()).not.toThrow();
  });

  it('refuses more arguments than the control block holds', () => {
    expect(() => pool.begin(0, 0, new Array(33).fill(0))).toThrow(
      'a wasm kernel takes at most 32 arguments, got 33',
    );
  });
});
