import { type Reranker, rerank } from '@tessera/rag';
import { describe, expect, it } from 'vitest';

/** A scripted cross-encoder: the score is how many query words the document holds. */
const overlap: Reranker = {
  score: (query, docs) => {
    const words = new Set(query.split(' '));
    return docs.map((d) => d.split(' ').filter((w) => words.has(w)).length);
  },
};

describe('rerank', () => {
  const docs = [
    { id: 'a', text: 'red apple', sourceId: 's1' },
    { id: 'b', text: 'green red apple pie', sourceId: 's2' },
    { id: 'c', text: 'blue sky', sourceId: 's3' },
    { id: 'd', text: 'apple', sourceId: 's4' },
  ];

  it("orders candidates by the reranker's scores, keeping their fields; ties keep order", async () => {
    const out = await rerank(overlap, 'red apple pie', docs);
    expect(out.map((d) => [d.id, d.score, d.sourceId])).toEqual([
      ['b', 3, 's2'],
      ['a', 2, 's1'],
      ['d', 1, 's4'],
      ['c', 0, 's3'],
    ]);
    expect((await rerank(overlap, 'apple', docs, 2)).map((d) => d.id)).toEqual(['a', 'b']);
    expect(await rerank(overlap, 'x', [])).toEqual([]);
  });

  it('rejects a reranker that returns the wrong count or a NaN', async () => {
    await expect(rerank({ score: () => [1] }, 'q', docs)).rejects.toThrow(
      /the reranker returned 1 scores for 4 documents/,
    );
    await expect(rerank({ score: async () => [1, 2, Number.NaN, 0] }, 'q', docs)).rejects.toThrow(
      /score 2 is NaN/,
    );
  });
});
