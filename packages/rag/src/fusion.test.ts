import { reciprocalRankFusion, weightedScoreFusion } from '@tessera/rag';
import { describe, expect, it } from 'vitest';

const ids = (xs: string) => xs.split('').map((id) => ({ id }));

describe('reciprocalRankFusion', () => {
  it('sums 1 / (60 + rank) over the rankings that hold an id', () => {
    const fused = reciprocalRankFusion([ids('abc'), ids('cad')]);
    const want = {
      a: 1 / 61 + 1 / 62,
      b: 1 / 62,
      c: 1 / 63 + 1 / 61,
      d: 1 / 63,
    };
    expect(fused.map((h) => h.id)).toEqual(['a', 'c', 'b', 'd']);
    for (const h of fused) expect(h.score).toBeCloseTo(want[h.id as keyof typeof want], 15);
  });

  it('takes k and weights; ties keep first-seen order', () => {
    const fused = reciprocalRankFusion([ids('ab'), ids('ba')], { k: 0, weights: [2, 1] });
    expect(fused).toEqual([
      { id: 'a', score: 2 / 1 + 1 / 2 },
      { id: 'b', score: 2 / 2 + 1 / 1 },
    ]);
    expect(reciprocalRankFusion([ids('xy'), ids('yx')]).map((h) => h.id)).toEqual(['x', 'y']);
  });

  it('rejects an id twice in one ranking, bad weights and no rankings', () => {
    expect(() => reciprocalRankFusion([ids('aba')])).toThrow(
      /rankings\[0\] lists id "a" twice \(again at 2\)/,
    );
    expect(() => reciprocalRankFusion([ids('a'), ids('b')], { weights: [1] })).toThrow(
      /weights must be 2 finite numbers >= 0/,
    );
    expect(() => reciprocalRankFusion([])).toThrow(/rankings must be a non-empty array/);
    expect(() => reciprocalRankFusion([ids('a')], { K: 60 } as never)).toThrow(
      /unknown option "K"/,
    );
  });
});

describe('weightedScoreFusion', () => {
  it('min-max normalises each ranking, then sums weighted scores', () => {
    const bm25 = [
      { id: 'a', score: 12 },
      { id: 'b', score: 7 },
      { id: 'c', score: 2 },
    ];
    const dense = [
      { id: 'c', score: -0.1 },
      { id: 'a', score: -0.5 },
    ];
    const fused = weightedScoreFusion([bm25, dense], { weights: [0.3, 0.7] });
    const want = { a: 0.3 * 1 + 0.7 * 0, b: 0.3 * 0.5, c: 0.3 * 0 + 0.7 * 1 };
    expect(fused.map((h) => h.id)).toEqual(['c', 'a', 'b']);
    for (const h of fused) expect(h.score).toBeCloseTo(want[h.id as keyof typeof want], 15);
    expect(weightedScoreFusion([[{ id: 'x', score: 5 }]])).toEqual([{ id: 'x', score: 1 }]);
    expect(weightedScoreFusion([bm25], { normalize: 'none' })[0]).toEqual({ id: 'a', score: 12 });
  });

  it('rejects non-finite scores', () => {
    expect(() => weightedScoreFusion([[{ id: 'a', score: Number.NaN }]])).toThrow(
      /rankings\[0\]\[0\]\.score is NaN/,
    );
  });
});
