import { readFileSync } from 'node:fs';
import { Bm25Index, defaultAnalyzer } from '@tessera/rag';
import { describe, expect, it } from 'vitest';

interface Fixture {
  tool: string;
  k1: number;
  b: number;
  docs: { id: string; text: string }[];
  docTokens: string[][];
  cases: { query: string; tokens: string[]; scores: number[] }[];
}
const fixture: Fixture = JSON.parse(
  readFileSync(new URL('../fixtures/bm25.json', import.meta.url), 'utf8'),
);

describe('Bm25Index', () => {
  it("tokenises as bm25s's default pattern does, Unicode letters included", () => {
    fixture.docs.forEach((doc, i) => {
      expect(defaultAnalyzer(doc.text)).toEqual(fixture.docTokens[i]);
    });
    for (const c of fixture.cases) expect(defaultAnalyzer(c.query)).toEqual(c.tokens);
  });

  it(`scores every document as ${fixture.tool} (method="lucene", k1 = 1.2, b = 0.75) does`, () => {
    const index = new Bm25Index({ k1: fixture.k1, b: fixture.b });
    index.add(fixture.docs);
    let compared = 0;
    for (const c of fixture.cases) {
      const scores = index.scores(c.query);
      fixture.docs.forEach((doc, i) => {
        const want = c.scores[i]!;
        const got = scores.get(doc.id) ?? 0;
        expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
        if (want > 0) compared++;
      });
    }
    expect(compared).toBeGreaterThan(500);
  });

  it('ranks by score and keeps statistics right after deletion', () => {
    const docs = fixture.docs.slice(0, 120);
    const index = new Bm25Index();
    index.add(docs);
    const top = index.search('thou art my lord', 5);
    expect(top).toHaveLength(5);
    for (let i = 1; i < top.length; i++)
      expect(top[i]!.score).toBeLessThanOrEqual(top[i - 1]!.score);
    // Deleting documents gives the same scores as never indexing them.
    const fresh = new Bm25Index();
    fresh.add(docs.slice(40));
    index.delete(docs.slice(0, 40).map((d) => d.id));
    expect(index.size()).toBe(80);
    const a = index.scores('thou art my lord');
    const b = fresh.scores('thou art my lord');
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [id, s] of b) expect(a.get(id)).toBeCloseTo(s, 12);
    expect(index.idf('the')).toBeCloseTo(fresh.idf('the'), 12);
  });

  it('rejects empty documents, duplicate ids and bad parameters, indexing nothing', () => {
    const index = new Bm25Index();
    index.add([{ id: 'a', text: 'some text' }]);
    expect(() =>
      index.add([
        { id: 'b', text: 'x y' },
        { id: 'c', text: '  \n' },
      ]),
    ).toThrow(/documents\[1\] \(id "c"\) has an empty text/);
    expect(() =>
      index.add([
        { id: 'b', text: 'x y' },
        { id: 'b', text: 'z' },
      ]),
    ).toThrow(/duplicate id "b" in documents\[1\]/);
    expect(() => index.add([{ id: 'a', text: 'again' }])).toThrow(
      /id "a" \(documents\[0\]\) is already indexed/,
    );
    expect(index.size()).toBe(1);
    expect(() => new Bm25Index({ b: 2 })).toThrow(/b must be in \[0, 1\], got 2/);
    expect(() => new Bm25Index({ k: 1 } as never)).toThrow(/unknown option "k"/);
    expect(() => index.search('text', 0)).toThrow(/k must be a positive integer, got 0/);
  });
});
