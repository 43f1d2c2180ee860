import { DecodeRows } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { TrigramLM } from './test-utils/toy-models.js';

const { all, cpu } = await testDevices();

/** The model's logits after each token of `seq`, run alone without a cache. */
async function alone(lm: TrigramLM, seq: number[]): Promise<Float32Array[]> {
  const ids = T.tensor(Int32Array.from(seq), { shape: [1, seq.length], device: lm.device });
  const data = (await lm.forward(ids).data()) as Float32Array;
  const v = lm.vocabSize;
  return seq.map((_, t) => data.slice(t * v, (t + 1) * v));
}

describe.each(all)('DecodeRows ($info.backend)', (dev) => {
  it('rows at different lengths give the logits each would alone, one pass per feed size', async () => {
    const lm = new TrigramLM(dev, 8);
    const rows = new DecodeRows(lm, { rows: 3, maxLength: 32 });
    const seqs = [
      [1, 2, 3],
      [4, 5, 6, 7, 0, 1],
      [2, 2],
    ];
    let got = await rows.extend([0, 1, 2], seqs);
    expect(lm.calls).toEqual([
      [1, 3],
      [1, 6],
      [1, 2],
    ]);
    for (let step = 0; step < 4; step++) {
      for (const [r, g] of got.entries())
        expect(maxRelError(g[0]!, (await alone(lm, seqs[r]!)).at(-1)!)).toBeLessThan(1e-6);
      const next = seqs.map((s, r) => (s.at(-1)! + r + step) % 8);
      for (const [r, s] of seqs.entries()) s.push(next[r]!);
      lm.calls.length = 0;
      got = await rows
        .extend([2, 0, 1], [[next[2]!], [next[0]!], [next[1]!]])
        .then((g) => [g[1]!, g[2]!, g[0]!]);
      expect(lm.calls).toEqual([[3, 1]]); // every row one token: one pass for all
    }
    expect(rows.cache!.lengths).toEqual(seqs.map((s) => s.length));
    rows.dispose();
  });

  it('positions returns the logits after each of the last new tokens (speculative verification)', async () => {
    const lm = new TrigramLM(dev, 8);
    const rows = new DecodeRows(lm, { rows: 1, maxLength: 16 });
    await rows.extend([0], [[3, 1]]);
    const [last3] = await rows.extend([0], [[4, 1, 5, 2]], { positions: 3 });
    const want = (await alone(lm, [3, 1, 4, 1, 5, 2])).slice(3);
    expect(last3).toHaveLength(3);
    for (let i = 0; i < 3; i++) expect(maxRelError(last3![i]!, want[i]!)).toBeLessThan(1e-6);
  });

  it('truncate rolls back, reorder copies, reset frees; the cache follows', async () => {
    const lm = new TrigramLM(dev, 8);
    const rows = new DecodeRows(lm, { rows: 2, maxLength: 16 });
    await rows.extend(
      [0, 1],
      [
        [1, 2, 3, 4],
        [5, 6, 7, 0],
      ],
    );
    rows.truncate(1, 2); // row 1 is back to [5, 6]
    rows.reorder([1, 1]); // both rows now continue [5, 6]
    const [a, b] = await rows.extend([0, 1], [[3], [4]]);
    expect(rows.ids(0)).toEqual([5, 6, 3]);
    expect(maxRelError(a![0]!, (await alone(lm, [5, 6, 3])).at(-1)!)).toBeLessThan(1e-6);
    expect(maxRelError(b![0]!, (await alone(lm, [5, 6, 4])).at(-1)!)).toBeLessThan(1e-6);
    rows.reset(0);
    expect(rows.ids(0)).toEqual([]);
    expect(rows.cache!.lengths).toEqual([0, 3]);
  });

  it('a row past maxLength is refilled with its last half window', async () => {
    const lm = new TrigramLM(dev, 8);
    const rows = new DecodeRows(lm, { rows: 1, maxLength: 6 });
    const seq = [1, 2, 3, 4, 5, 6];
    await rows.extend([0], [seq]);
    const [[logits]] = (await rows.extend([0], [[7]])) as [[Float32Array]];
    // 7 positions do not fit 6: the cache restarts from the last 3 tokens.
    expect(rows.cache!.lengths).toEqual([3]);
    expect(rows.ids(0)).toEqual([...seq, 7]);
    expect(maxRelError(logits, (await alone(lm, [5, 6, 7])).at(-1)!)).toBeLessThan(1e-6);
  });

  it('without a cache, reruns the window of each row', async () => {
    const lm = new TrigramLM(dev, 8);
    const rows = new DecodeRows(lm, { rows: 2, maxLength: 4, useCache: false });
    expect(rows.cache).toBeUndefined();
    const [a] = await rows.extend([0], [[1, 2, 3, 4, 5]]);
    expect(lm.calls).toEqual([[1, 4]]);
    expect(maxRelError(a![0]!, (await alone(lm, [2, 3, 4, 5])).at(-1)!)).toBeLessThan(1e-6);
  });
});

describe('DecodeRows errors', () => {
  it('names bad rows, tokens and options', async () => {
    const rows = new DecodeRows(new TrigramLM(cpu, 8), { rows: 2, maxLength: 8 });
    await expect(rows.extend([2], [[1]])).rejects.toThrow(/row 2 is not a row \(0\.\.1\)/);
    await expect(rows.extend([0], [[9]])).rejects.toThrow(/token 9 is outside the vocabulary/);
    await expect(rows.extend([0, 0], [[1], [1]])).rejects.toThrow(/repeat a row/);
    await expect(rows.extend([0], [[]])).rejects.toThrow(/row 0 gets 0 tokens, fewer than the 1/);
    await expect(rows.extend([0], [[1]], { positions: 9 })).rejects.toThrow(
      /positions must be an integer in 1\.\.8 \(the window\), got 9/,
    );
    expect(() => rows.truncate(0, 3)).toThrow(/length must be an integer in 0\.\.0, got 3/);
    expect(() => new DecodeRows(new TrigramLM(cpu, 8), { rows: 1, max: 3 } as never)).toThrow(
      /DecodeRows: unknown option "max"/,
    );
  });
});
