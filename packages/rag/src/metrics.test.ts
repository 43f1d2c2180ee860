import { readFileSync } from 'node:fs';
import { evaluateRun, ndcgAt, type Qrels, type Run, rankedDocuments } from '@tessera/rag';
import { describe, expect, it } from 'vitest';

interface Fixture {
  cutoffs: number[];
  qrels: Qrels;
  run: Run;
  rankings: Record<string, string[]>;
  perQuery: Record<string, Record<string, number>>;
  mean: Record<string, number>;
}
const fixture: Fixture = JSON.parse(
  readFileSync(new URL('../fixtures/metrics.json', import.meta.url), 'utf8'),
);

describe('retrieval metrics', () => {
  it('ranks as trec_eval: float32 scores descending, ties by docno descending', () => {
    for (const [q, scores] of Object.entries(fixture.run))
      expect(rankedDocuments(scores)).toEqual(fixture.rankings[q]);
    expect(rankedDocuments({ a: 1, b: 1, c: 2 })).toEqual(['c', 'b', 'a']);
  });

  it("agrees with trec_eval's definitions per query and on the mean (trec_eval -c)", () => {
    const { perQuery, mean } = evaluateRun(fixture.run, fixture.qrels, {
      cutoffs: fixture.cutoffs,
    });
    expect(Object.keys(perQuery).sort()).toEqual(Object.keys(fixture.qrels).sort());
    for (const [q, values] of Object.entries(fixture.perQuery))
      for (const [name, want] of Object.entries(values))
        expect(perQuery[q]![name], `${q} ${name}`).toBeCloseTo(want, 12);
    for (const [name, want] of Object.entries(fixture.mean))
      expect(mean[name]).toBeCloseTo(want, 12);
    expect(mean['nDCG@10']).toBeGreaterThan(0);
  });

  it('nDCG is 1 for the ideal ranking and uses grades as gains', () => {
    const judgments = { a: 3, b: 1, c: 0, d: 2 };
    expect(ndcgAt(['a', 'd', 'b'], judgments, 10)).toBe(1);
    const dcg = 1 / Math.log2(2) + 3 / Math.log2(3);
    const idcg = 3 + 2 / Math.log2(3);
    expect(ndcgAt(['b', 'a'], judgments, 2)).toBeCloseTo(dcg / idcg, 15);
  });

  it('rejects empty qrels, bad scores and bad cut-offs', () => {
    expect(() => evaluateRun({}, {})).toThrow(/qrels hold no query/);
    expect(() => evaluateRun({ q: { d: Number.NaN } }, { q: { d: 1 } })).toThrow(
      /run\["q"\]\["d"\] is NaN/,
    );
    expect(() => evaluateRun({}, { q: { d: 1 } }, { cutoffs: [0] })).toThrow(
      /cutoffs must be positive/,
    );
  });
});
