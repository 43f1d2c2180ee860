import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const cpu = await T.createDevice({ backend: 'cpu' });
// Three threads: uneven shares of rows and blocks, on any machine.
const wasm = await T.createDevice({ backend: 'wasm', threads: 3 });

function rnd(dev: Device, shape: number[], seed: number, scale = 1): Tensor {
  return T.mul(T.randn(shape, { device: dev, seed }), scale);
}

/** The kernels `fn` ran on the wasm device, by profile name. */
async function kernelsOf(fn: () => unknown): Promise<string[]> {
  const profile = await wasm.profile(() => T.tidy(() => void fn()));
  return profile.kernels.map((k) => k.name).sort();
}

/**
 * Runs `fn` on the wasm device and on the CPU reference; every output must agree within `tol`
 * (relative to max(1, |reference|)), and the gradients of inputs marked `requiresGrad` too.
 */
async function agree(fn: (dev: Device) => Tensor[], tol = 1e-5): Promise<void> {
  const [got, want] = [fn(wasm), fn(cpu)];
  for (const [i, t] of got.entries())
    expect(maxRelError(await t.data(), await want[i]!.data()), `output ${i}`).toBeLessThan(tol);
}

describe('the wasm backend runs its own kernels', () => {
  it('for the ops of a training step (no CPU reference among them)', async () => {
    const x = rnd(wasm, [64, 48], 1);
    const w = rnd(wasm, [48, 96], 2);
    const targets = T.randint(0, 48, [64], { device: wasm, seed: 3 });
    const table = rnd(wasm, [100, 48], 4);
    table.requiresGrad = true;
    const ids = T.randint(0, 100, [64], { device: wasm, seed: 5 });
    const names = await kernelsOf(() => {
      T.sum(T.embedding(table, ids)).backward();
      const h = T.matmul(T.rmsNorm(x, T.ones([48], { device: wasm })), w);
      const a = T.swiglu(T.slice(h, 1, 0, 48), T.slice(h, 1, 48, 96));
      T.crossEntropy(T.matmul(a, T.transpose(T.slice(w, 1, 0, 48))), targets);
      T.softmax(T.exp(T.add(h, 1)));
      T.sum(T.mul(h, h), 0);
    });
    expect(names.filter((n) => n.endsWith(':reference'))).toEqual([]);
    expect(names).toEqual(
      expect.arrayContaining([
        'matmul:f32',
        'norm:f32',
        'swiglu:f32',
        'cross_entropy:f32',
        'softmax_rows:f32',
        'exp:f32',
        'add:f32',
        'mul:f32',
        'reduce_rows:f32',
        'gather:f32',
        'scatter_add:f32',
      ]),
    );
  });

  it('and the CPU reference where it has none (integers)', async () => {
    const i = T.tensor(Int32Array.from([1, 2, 3]), { device: wasm });
    expect(await kernelsOf(() => T.add(i, i))).toEqual(['add:i32:reference']);
    expect(Array.from(await T.add(i, i).data())).toEqual([2, 4, 6]);
  });
});

describe('wasm kernels equal the CPU reference at sizes that use every thread', () => {
  it('matmul: transposed, broadcast batches, bias row and full epilogue, long K', async () => {
    await agree((d) => [T.matmul(rnd(d, [3, 130, 70], 1), rnd(d, [70, 250], 2))]);
    await agree((d) => [T.matmul(T.transpose(rnd(d, [2, 1, 90, 67], 1)), rnd(d, [3, 90, 129], 2))]);
    await agree((d) => [T.addmm(rnd(d, [203], 3), rnd(d, [301, 77], 1), rnd(d, [77, 203], 2))]);
    await agree((d) => [
      T.addmm(rnd(d, [301, 203], 3), rnd(d, [301, 77], 1), rnd(d, [77, 203], 2), {
        alpha: 0.5,
        beta: -2,
      }),
    ]);
    // Weight gradient shape: few outputs, K = 2048 (f32 sums in another order than float64).
    await agree((d) => [T.matmul(T.transpose(rnd(d, [2048, 48], 1)), rnd(d, [2048, 40], 2))], 2e-4);
  });

  it('elementwise: broadcast rows and columns, strided views, scalars, where', async () => {
    await agree((d) => {
      const a = rnd(d, [301, 257], 1);
      const row = rnd(d, [257], 2);
      const col = rnd(d, [301, 1], 3);
      const t = T.transpose(rnd(d, [257, 301], 4));
      return [
        T.add(a, row),
        T.mul(col, a),
        T.div(a, T.add(T.abs(t), 1)),
        T.maximum(a, 0.25),
        T.where(T.gt(a, t), a, col),
        T.gelu(a),
        T.gelu(t, { approximate: 'tanh' }),
        T.silu(a),
        T.sigmoid(t),
        T.tanh(a),
        T.log(T.add(T.square(a), 1e-3)),
        T.rsqrt(T.add(T.abs(a), 0.5)),
        T.contiguous(T.permute(rnd(d, [7, 50, 33, 11], 5), [2, 0, 3, 1])),
      ];
    });
    await agree((d) => {
      const ids = T.randint(-5, 5, [301, 257], { device: d, seed: 1 });
      const other = T.randint(-5, 5, [257], { device: d, seed: 2 });
      return [T.ne(ids, -1), T.eq(ids, other), T.lt(other, ids), T.gt(T.transpose(ids), 0)];
    });
  });

  it('rows: reductions over either axis, softmax, norms and cross-entropy, forward and backward', async () => {
    await agree((d) => {
      const x = rnd(d, [700, 301], 1, 3);
      return [T.sum(x, 0), T.sum(x, 1), T.max(x, 0), T.min(x, 1), T.sumOfSquares(x, 0)];
    }, 1e-4);
    await agree((d) => [
      T.softmax(rnd(d, [300, 1001], 1, 4)),
      T.logSoftmax(rnd(d, [300, 1001], 2)),
    ]);
    await agree((d) => {
      const x = T.add(rnd(d, [2048, 97], 1, 2), 1);
      x.requiresGrad = true;
      const w = T.add(rnd(d, [97], 2), 1);
      w.requiresGrad = true;
      const b = rnd(d, [97], 3);
      const y = T.add(T.layerNorm(x, w, b), T.rmsNorm(x, w));
      T.sum(T.mul(y, rnd(d, [2048, 97], 4))).backward();
      return [y, x.grad!, w.grad!];
    }, 1e-4);
    await agree((d) => {
      const logits = rnd(d, [2048, 385], 1, 3);
      logits.requiresGrad = true;
      const targets = T.randint(0, 385, [2048], { device: d, seed: 2 });
      const loss = T.crossEntropy(logits, targets, { labelSmoothing: 0.1 });
      loss.backward();
      return [loss, logits.grad!];
    });
  });

  it('embedding lookups and their gradient (repeated ids add up in row order)', async () => {
    await agree((d) => {
      const table = rnd(d, [385, 97], 1);
      table.requiresGrad = true;
      const ids = T.randint(0, 385, [32, 129], { device: d, seed: 2 });
      const y = T.embedding(table, ids);
      T.sum(T.mul(y, rnd(d, [32, 129, 97], 3))).backward();
      return [y, table.grad!];
    });
  });

  it('swiglu forward and backward on odd lengths', async () => {
    await agree((d) => {
      const gate = rnd(d, [4099, 33], 1, 2);
      const up = rnd(d, [4099, 33], 2);
      gate.requiresGrad = true;
      up.requiresGrad = true;
      const y = T.swiglu(gate, up);
      T.sum(T.mul(y, rnd(d, [4099, 33], 3))).backward();
      return [y, gate.grad!, up.grad!];
    });
  });
});

describe('wasm memory', () => {
  it('grows under live tensors, which keep their values, and kernels see the new memory', async () => {
    const early = T.arange(0, 1000, 1, { device: wasm });
    const before = wasm.memory().liveBytes;
    const big = T.ones([1 << 24], { device: wasm }); // 64 MiB: the memory must grow
    expect(wasm.memory().liveBytes).toBeGreaterThanOrEqual(before + (1 << 26));
    expect(await T.sum(big).item()).toBe(1 << 24);
    expect(Array.from((await early.data()).subarray(995))).toEqual([995, 996, 997, 998, 999]);
    big.dispose();
  });

  it('reuses freed blocks: a repeated step creates none', async () => {
    const step = () =>
      T.tidy(() => T.sum(T.softmax(T.matmul(rnd(wasm, [64, 32], 1), rnd(wasm, [32, 64], 2)))));
    (await step()).dispose();
    const created = wasm.memory().buffersCreated;
    for (let i = 0; i < 3; i++) (await step()).dispose();
    expect(wasm.memory().buffersCreated).toBe(created);
  });
});

describe('index and target checks on wasm, from any thread', () => {
  it('an index out of range raises the CPU reference error at once, naming the first', () => {
    const table = rnd(wasm, [50, 64], 1);
    const ids = Int32Array.from({ length: 3000 }, (_, i) => i % 50);
    ids[2900] = 77;
    ids[1700] = 50;
    const index = T.tensor(ids, { device: wasm });
    expect(() => T.embedding(table, index)).toThrow(
      'embedding: index 50 is out of range for a dimension of size 50',
    );
    // Embedding's backward: a scatter-add of rows at the ids.
    const rows = T.expand(T.reshape(index, [-1, 1]), [3000, 64]);
    expect(() => T.scatterAdd([50, 64], 0, rows, rnd(wasm, [3000, 64], 2))).toThrow(
      'scatterAdd: index 50 is out of range for a dimension of size 50',
    );
  });

  it('a cross-entropy target out of range does too', () => {
    const logits = rnd(wasm, [3000, 10], 1);
    const targets = Int32Array.from({ length: 3000 }, (_, i) => i % 10);
    targets[2500] = 12;
    targets[2000] = -3;
    expect(() => T.crossEntropy(logits, T.tensor(targets, { device: wasm }))).toThrow(
      'crossEntropy: target -3 is out of range for 10 classes',
    );
  });
});
