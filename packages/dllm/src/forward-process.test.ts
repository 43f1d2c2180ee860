import { maskTokens } from '@tessera/dllm';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, cpu, gpu } = await testDevices();
const MASK = 99;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function cleanIds(rows: number, length: number, device: T.Device): T.Tensor {
  const ids = Int32Array.from({ length: rows * length }, (_, i) => (i * 7) % 50);
  return T.tensor(ids, { shape: [rows, length], device });
}

async function draw(device: T.Device, options: Parameters<typeof maskTokens>[1]) {
  const rows = 400;
  const length = 64;
  const ids = cleanIds(rows, length, device);
  const r = maskTokens(ids, options);
  return {
    rows,
    length,
    ids: await ids.data(),
    input: await r.input.data(),
    masked: await r.masked.data(),
    t: await r.t.data(),
  };
}

describe.each(all)('maskTokens ($info.backend)', (device) => {
  it('masks each token with its row’s rate t ~ U(ε, 1], replacing exactly the masked ones', async () => {
    const d = await draw(device, { maskId: MASK, seed: 3 });
    let sumT = 0;
    let maskedTotal = 0;
    let expected = 0;
    for (let b = 0; b < d.rows; b++) {
      const t = d.t[b]!;
      expect(t).toBeGreaterThan(1e-3);
      expect(t).toBeLessThanOrEqual(1);
      sumT += t;
      for (let i = 0; i < d.length; i++) {
        const at = b * d.length + i;
        expect(d.input[at]).toBe(d.masked[at] === 1 ? MASK : d.ids[at]);
        maskedTotal += d.masked[at]!;
      }
      expected += t * d.length;
    }
    // t is uniform: mean 1/2 (sd of the mean 0.0144 for 400 rows).
    expect(Math.abs(sumT / d.rows - 0.5)).toBeLessThan(0.05);
    // The masks follow each row's t: masked count ≈ Σ t·T (sd ≈ √(Σ T·t(1−t)) ≈ 66).
    expect(Math.abs(maskedTotal - expected)).toBeLessThan(4 * 66);
    // Low-t rows mask little and high-t rows much: compare the lowest and highest quarters.
    const order = Array.from({ length: d.rows }, (_, b) => b).sort((a, b) => d.t[a]! - d.t[b]!);
    const masked = Array.from(d.masked);
    const share = (rows: number[]) =>
      rows.reduce((s, b) => s + sum(masked.slice(b * d.length, (b + 1) * d.length)), 0) /
      (rows.length * d.length);
    expect(share(order.slice(0, 100))).toBeLessThan(0.2);
    expect(share(order.slice(300))).toBeGreaterThan(0.8);
  });

  it("stratified: MDLM's low-discrepancy rates cover (0, 1] at spacing 1/B", async () => {
    const d = await draw(device, { maskId: MASK, seed: 3, stratified: true });
    const u = Array.from(d.t, (t) => (1 - t) / (1 - 1e-3)).sort((a, b) => a - b);
    for (let b = 1; b < u.length; b++) expect(u[b]! - u[b - 1]!).toBeCloseTo(1 / d.rows, 5);
    expect(u[0]).toBeLessThan(1 / d.rows + 1e-6);
    const independent = await draw(device, { maskId: MASK, seed: 3 });
    expect(Array.from(d.masked)).not.toEqual(Array.from(independent.masked));
  });

  it('never masks a prompt; eps bounds t from below', async () => {
    const promptLengths = Array.from({ length: 400 }, (_, b) => b % 65);
    const d = await draw(device, { maskId: MASK, seed: 5, eps: 0.5, promptLengths });
    for (let b = 0; b < d.rows; b++) {
      expect(d.t[b]).toBeGreaterThan(0.5);
      for (let i = 0; i < promptLengths[b]!; i++) expect(d.masked[b * d.length + i]).toBe(0);
    }
    const answerMasked = sum(Array.from(d.masked));
    expect(answerMasked).toBeGreaterThan(0);
  });
});

describe('maskTokens draws', () => {
  it('are the same on WebGPU and the CPU for a seed, and differ between seeds', async () => {
    const a = await draw(cpu, { maskId: MASK, seed: 8 });
    const b = await draw(cpu, { maskId: MASK, seed: 9 });
    expect(Array.from(a.masked)).not.toEqual(Array.from(b.masked));
    if (gpu) {
      const g = await draw(gpu, { maskId: MASK, seed: 8 });
      expect(Array.from(g.masked)).toEqual(Array.from(a.masked));
      expect(Array.from(g.t)).toEqual(Array.from(a.t));
    }
  });

  it('names bad input', () => {
    const ids = cleanIds(2, 4, cpu);
    expect(() => maskTokens(T.cast(ids, 'f32'), { maskId: 1, seed: 0 })).toThrow(
      'maskTokens: ids must be i32 [batch, T], got f32 [2, 4]',
    );
    expect(() => maskTokens(ids, { maskId: 1, seed: 0, eps: 1 })).toThrow(
      'maskTokens: eps must be in [0, 1), got 1',
    );
    expect(() => maskTokens(ids, { maskId: 1, seed: 0, promptLengths: [1, 5] })).toThrow(
      'maskTokens: promptLengths must give one integer in [0, 4] per row (2 rows), got [1, 5]',
    );
    expect(() => maskTokens(ids, { maskId: 1, seed: 0, rate: 1 } as never)).toThrow(
      /maskTokens: unknown option "rate"/,
    );
  });
});
