import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileKernels } from '../../../../scripts/build-wasm.js';
import { ThreadPool } from './thread-pool.js';

/** Each task marks its slot with task + 1 and copies its argument; `fail` traps in one task. */
const SOURCE = `
export function mark(task: i32, tasks: i32, out: usize, value: f64): void {
  store<i32>(out + <usize>task * 4, task + 1);
  store<f64>(out + 256 + <usize>task * 8, value);
}
export function fail(task: i32, tasks: i32, on: i32): void {
  if (task == on) unreachable();
}
`;

const THREADS = 3;
const CONTROL = 64;
const memory = new WebAssembly.Memory({ initial: 4, maximum: 65536, shared: true });
let pool: ThreadPool;
/** The caller's own instance of the module, as the wasm backend keeps one. */
let mine: Record<string, (...args: number[]) => void>;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pool-'));
  writeFileSync(join(dir, 'pool.ts'), SOURCE);
  const bytes = await compileKernels(join(dir, 'pool.ts'));
  pool = await ThreadPool.start(memory, CONTROL, THREADS);
  // The module's bytes go to the workers through the shared memory.
  new Uint8Array(memory.buffer, 4096, bytes.length).set(bytes);
  pool.load(0, 4096, bytes.length);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: { memory },
  });
  mine = instance.exports as typeof mine;
}, 300_000); // the AssemblyScript compiler takes minutes on a busy CI machine
afterAll(() => pool.destroy());

describe('ThreadPool', () => {
  it('runs every task of a call once, with the same arguments, on whichever threads claim them', () => {
    const out = 65536;
    for (let round = 0; round < 50; round++) {
      new Int32Array(memory.buffer, out, 64).fill(0);
      // Exports in declaration order: mark is 0.
      pool.run(mine.mark!, 0, 0, [out, round + 0.5]);
      const tasks = pool.tasks;
      expect([...new Int32Array(memory.buffer, out, tasks + 1)]).toEqual([
        ...Array.from({ length: tasks }, (_, t) => t + 1),
        0,
      ]);
      expect([...new Float64Array(memory.buffer, out + 256, tasks)]).toEqual(
        new Array(tasks).fill(round + 0.5),
      );
    }
    expect(pool.threads).toBe(THREADS);
    expect(pool.tasks).toBeGreaterThanOrEqual(THREADS);
  });

  it('raises what a task threw, naming it, and keeps serving', () => {
    for (const task of [0, 1, pool.tasks - 1]) {
      expect(() => pool.run(mine.fail!, 0, 1, [task])).toThrow(`task ${task}: unreachable`);
    }
    expect(() => pool.run(mine.fail!, 0, 1, [-1])).not.toThrow();
  });

  it('refuses more arguments than the control block holds', () => {
    expect(() => pool.run(mine.mark!, 0, 0, new Array(33).fill(0))).toThrow(
      'a wasm kernel takes at most 32 arguments, got 33',
    );
  });
});
