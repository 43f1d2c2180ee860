import { packSequences, padSequences, type TokenBatch } from '@tessera/rlhf';
import { describe, expect, it } from 'vitest';

const rowsOf = (a: ArrayLike<number>, length: number) =>
  Array.from({ length: a.length / length }, (_, r) =>
    Array.from(a).slice(r * length, (r + 1) * length),
  );

describe('packSequences (best-fit decreasing)', () => {
  it("packs TRL's pack_dataset docstring example as TRL does", () => {
    // TRL pack_dataset(strategy="bfd", seq_length=4) on [[1..5], [6, 7], [8, 9, 10], [11]] gives
    // rows [1, 2, 3, 4], [8, 9, 10, 11], [6, 7] with seq_lengths [4], [3, 1], [2].
    const examples = [[1, 2, 3, 4, 5], [6, 7], [8, 9, 10], [11]].map((ids) => ({ ids }));
    const batch = packSequences(examples, { length: 4, padId: 0 });
    expect(rowsOf(batch.ids, 4)).toEqual([
      [1, 2, 3, 4],
      [8, 9, 10, 11],
      [6, 7, 0, 0],
    ]);
    expect(batch.examples).toEqual([[0], [2, 3], [1]]);
    expect(rowsOf(batch.documentIds, 4)).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 1],
      [0, 0, 1, 1],
    ]);
    expect(rowsOf(batch.positionIds, 4)).toEqual([
      [0, 1, 2, 3],
      [0, 1, 2, 0],
      [0, 1, 0, 1],
    ]);
    // No target at an example's first token nor on padding.
    expect(rowsOf(batch.lossMask, 4)).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 0],
      [0, 1, 0, 0],
    ]);
  });

  it('keeps every token of examples that fit, in rows no longer than the length', () => {
    const examples = Array.from({ length: 40 }, (_, i) => ({
      ids: Array.from({ length: 1 + ((i * 7) % 13) }, (_, t) => 100 * i + t),
    }));
    const batch = packSequences(examples, { length: 16, padId: -1 });
    const seen = Array.from(batch.ids).filter((id) => id !== -1);
    expect(seen.sort((a, b) => a - b)).toEqual(
      examples.flatMap((e) => e.ids).sort((a, b) => a - b),
    );
    // Each example is contiguous, with its own document id and positions from 0.
    checkSegments(
      batch,
      examples.map((e) => e.ids),
    );
    // Best fit: fewer rows than one example per row, and at least the token count / 16.
    const tokens = examples.reduce((n, e) => n + e.ids.length, 0);
    expect(batch.rows).toBeGreaterThanOrEqual(Math.ceil(tokens / 16));
    expect(batch.rows).toBeLessThan(examples.length / 2);
  });

  it('masks prompt tokens with completionOnly (default) and keeps them without', () => {
    const examples = [
      { ids: [5, 6, 7, 8], completionMask: [0, 0, 1, 1] },
      { ids: [9, 10], completionMask: [0, 1] },
    ];
    expect(Array.from(packSequences(examples, { length: 6 }).lossMask)).toEqual([0, 0, 1, 1, 0, 1]);
    const all = packSequences(examples, { length: 6, completionOnly: false });
    expect(Array.from(all.lossMask)).toEqual([0, 1, 1, 1, 0, 1]);
  });

  it('rejects bad input with a clear message', () => {
    expect(() => packSequences([{ ids: [] }], { length: 4 })).toThrow(
      /packSequences: examples\[0\] has no tokens/,
    );
    expect(() => packSequences([{ ids: [1, 2.5] }], { length: 4 })).toThrow(
      /examples\[0\]\.ids\[1\] must be an integer/,
    );
    expect(() => packSequences([{ ids: [1, 2], completionMask: [1] }], { length: 4 })).toThrow(
      /completionMask has 1 entries for 2 ids/,
    );
    expect(() => packSequences([{ ids: [1] }], { length: 0 })).toThrow(
      /length must be an integer >= 1/,
    );
    // @ts-expect-error: misspelt option
    expect(() => packSequences([{ ids: [1] }], { length: 4, padding: 0 })).toThrow(
      /unknown option "padding"/,
    );
  });
});

describe('padSequences', () => {
  it('puts one example per row, right-padded and truncated', () => {
    const batch = padSequences(
      [{ ids: [1, 2, 3, 4, 5], completionMask: [0, 0, 1, 1, 1] }, { ids: [6, 7] }],
      {
        length: 4,
        padId: 9,
      },
    );
    expect(rowsOf(batch.ids, 4)).toEqual([
      [1, 2, 3, 4],
      [6, 7, 9, 9],
    ]);
    expect(rowsOf(batch.lossMask, 4)).toEqual([
      [0, 0, 1, 1],
      [0, 1, 0, 0],
    ]);
    expect(rowsOf(batch.documentIds, 4)).toEqual([
      [0, 0, 0, 0],
      [0, 0, 1, 1],
    ]);
  });
});

/** Each example's tokens sit together in one row, positions 0.., one document id, padding last. */
function checkSegments(batch: TokenBatch, examples: number[][]) {
  batch.examples.forEach((items, r) => {
    let at = r * batch.length;
    items.forEach((i, doc) => {
      for (let p = 0; p < examples[i]!.length; p++, at++) {
        expect(batch.ids[at]).toBe(examples[i]![p]);
        expect(batch.positionIds[at]).toBe(p);
        expect(batch.documentIds[at]).toBe(doc);
      }
    });
    for (; at < (r + 1) * batch.length; at++) expect(batch.documentIds[at]).toBe(items.length);
  });
}
