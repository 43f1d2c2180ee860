import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '@tessera/tensor-webgpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileKernels } from '../../../../scripts/build-wasm.js';

// A package's own kernels, the way attention or RoPE would add theirs: an AssemblyScript module
// built with the core's flags, declared with defineWasmModule, called from an op's wasm hook.
const SOURCE = `
export function scale(thread: i32, threads: i32, x: usize, y: usize, n: i32, factor: f32): void {
  const chunk = (n + threads - 1) / threads;
  const end = min(n, (thread + 1) * chunk);
  for (let i = thread * chunk; i < end; i++) {
    store<f32>(y + <usize>i * 4, load<f32>(x + <usize>i * 4) * factor);
  }
}
export function trap(thread: i32, threads: i32): void {
  unreachable();
}
`;

let bytes: Uint8Array<ArrayBuffer> | undefined;
let built = 0;
const module = T.defineWasmModule('test-kernels', () => {
  built++;
  return bytes!;
});

interface Params {
  factor: number;
  /** Which export the hook calls, or false to decline. */
  entry: string | false;
}

const scaleOp = T.defineOp<Params>({
  name: 'scale',
  outputs: ([x]) => [{ shape: x!.shape, dtype: x!.dtype }],
  wgsl: () => {
    throw new Error('not on WebGPU in this test');
  },
  cpu: ([x], [y], { factor }) => {
    for (let i = 0; i < y!.data.length; i++) y!.data[i] = x!.data[i]! * factor;
  },
  wasm: ([x], [y], { factor, entry }, context) => {
    if (entry === false) return false;
    const n = T.sizeOf(x!.shape);
    context.call(module, entry, [x!.address, y!.address, n, factor], n >= 1000);
    return true;
  },
});

const dev = await T.createDevice({ backend: 'wasm', threads: 3 });

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-kernels-'));
  writeFileSync(join(dir, 'kernels.ts'), SOURCE);
  bytes = await compileKernels(join(dir, 'kernels.ts'));
}, 300_000); // the AssemblyScript compiler takes minutes on a busy CI machine

describe('wasm kernels of another package (defineWasmModule and the wasm hook)', () => {
  it('run on every thread and agree with the CPU reference; the module is built once', async () => {
    const values = Float32Array.from({ length: 10007 }, (_, i) => i - 5000);
    const x = T.tensor(values, { device: dev });
    const profile = await dev.profile(() => {
      const y = scaleOp([x], { factor: 0.5, entry: 'scale' })[0]!;
      y.dispose();
    });
    expect(profile.kernels.map((k) => k.name)).toEqual(['scale:f32']);
    const y = scaleOp([x], { factor: -3, entry: 'scale' })[0]!;
    expect(Array.from(await y.data())).toEqual(Array.from(values, (v) => v * -3));
    expect(built).toBe(1);
  });

  it('a hook that declines leaves the op to its CPU reference, on the same memory', async () => {
    const x = T.tensor([1, 2, 3], { device: dev });
    const profile = await dev.profile(() => {
      const y = scaleOp([x], { factor: 2, entry: false })[0]!;
      y.dispose();
    });
    expect(profile.kernels.map((k) => k.name)).toEqual(['scale:f32:reference']);
    expect(Array.from(await scaleOp([x], { factor: 2, entry: false })[0]!.data())).toEqual([
      2, 4, 6,
    ]);
  });

  it('a trap names the module and the kernel, and the device keeps working', async () => {
    const x = T.ones([4096], { device: dev });
    expect(() => scaleOp([x], { factor: 1, entry: 'trap' })).toThrow(
      /^wasm kernel test-kernels\.trap failed: task \d: unreachable/,
    );
    expect(() => scaleOp([x], { factor: 1, entry: 'nope' })).toThrow(
      "wasm module test-kernels has no exported kernel 'nope'",
    );
    expect(await T.sum(scaleOp([x], { factor: 2, entry: 'scale' })[0]!).item()).toBe(8192);
  });
});
