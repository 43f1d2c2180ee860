import {
  Bm25Index,
  chunkText,
  type Embedder,
  FlatIndex,
  HnswIndex,
  Retriever,
  reciprocalRankFusion,
  scoresFromDistances,
  weightedScoreFusion,
} from '@tessera/rag';
import { describe, expect, it } from 'vitest';

/** A toy embedder: hashed bag of words, 32 dimensions (deterministic, no model). */
const hashing: Embedder = {
  embed: (texts) =>
    texts.map((t) => {
      const v = new Float32Array(32);
      v[31] = 0.01; // never all zeros
      for (const w of t.toLowerCase().match(/\w+/g) ?? []) {
        let h = 0;
        for (const ch of w) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
        v[h % 31] = v[h % 31]! + 1;
      }
      return v;
    }),
};

const text = [
  'The mitochondria is the powerhouse of the cell. It makes ATP.',
  'Photosynthesis happens in chloroplasts, which capture light.',
  'Ribosomes build proteins from amino acids, reading messenger RNA.',
  'The nucleus holds DNA; transcription copies genes into RNA.',
  'Lysosomes digest waste with enzymes inside the cell.',
].join('\n\n');
const passages = chunkText('biology.txt', text, { chunkSize: 70 });

describe('Retriever', () => {
  it('fuses BM25 and dense rankings by reciprocal rank, keeping chunk spans', async () => {
    const bm25 = new Bm25Index();
    const store = new FlatIndex({ dimension: 32 });
    const retriever = new Retriever({ bm25, embedder: hashing, store, candidates: 10 });
    await retriever.add(passages);
    expect(retriever.size()).toBe(passages.length);
    const query = 'which organelle makes ATP for the cell';
    const [q] = await hashing.embed([query]);
    const want = reciprocalRankFusion([bm25.search(query, 10), store.search(q!, 10)]);
    const got = await retriever.search(query, 3);
    expect(got.map((h) => [h.id, h.score])).toEqual(want.slice(0, 3).map((h) => [h.id, h.score]));
    expect(got[0]!.sourceId).toBe('biology.txt');
    expect(text.slice(got[0]!.start, got[0]!.end)).toBe(got[0]!.text);
  });

  it('weighted fusion, dense or sparse alone, and a reranking stage', async () => {
    const bm25 = new Bm25Index();
    const store = new HnswIndex({ dimension: 32 });
    const weighted = new Retriever({
      bm25,
      embedder: hashing,
      store,
      fusion: 'weighted',
      weights: [0.2, 0.8],
    });
    await weighted.add(passages);
    const query = 'RNA and genes';
    const [q] = await hashing.embed([query]);
    const want = weightedScoreFusion(
      [bm25.search(query, 50), scoresFromDistances(store.search(q!, 50))],
      {
        weights: [0.2, 0.8],
      },
    );
    expect((await weighted.search(query, 2)).map((h) => h.id)).toEqual(
      want.slice(0, 2).map((h) => h.id),
    );

    const sparse = new Retriever();
    await sparse.add(passages);
    expect((await sparse.search('chloroplasts light', 1))[0]!.text).toMatch(/^Photosynthesis/);
    const dense = new Retriever({
      bm25: false,
      embedder: hashing,
      store: new FlatIndex({ dimension: 32 }),
    });
    await dense.add(passages);
    expect((await dense.search('ribosomes proteins amino', 1))[0]!.text).toMatch(/^Ribosomes/);

    // A reranker that prefers short passages reorders the fused candidates.
    const reranked = new Retriever({
      reranker: { score: (_q, docs) => docs.map((d) => -d.length) },
    });
    await reranked.add(passages);
    const out = await reranked.search('the cell', 3);
    expect(out.map((h) => h.score)).toEqual([...out.map((h) => h.score)].sort((a, b) => b - a));
  });

  it('adds nothing when a passage or an embedding is bad; deletes from both halves', async () => {
    const bm25 = new Bm25Index();
    const store = new FlatIndex({ dimension: 32 });
    const broken: Embedder = { embed: (texts) => texts.map(() => new Float32Array(16)) };
    const r = new Retriever({ bm25, embedder: broken, store });
    await expect(r.add(passages)).rejects.toThrow(
      /embedding 0 has 16 values, expected the dimension 32/,
    );
    expect([r.size(), bm25.size(), store.size()]).toEqual([0, 0, 0]);

    const ok = new Retriever({ bm25, embedder: hashing, store });
    await ok.add(passages.slice(0, 2));
    await expect(ok.add([passages[2]!, passages[0]!])).rejects.toThrow(
      /id "biology.txt#0" \(documents\[1\]\) is already indexed/,
    );
    await expect(ok.add([{ id: 'x', text: '' }])).rejects.toThrow(/has an empty text/);
    expect([ok.size(), bm25.size(), store.size()]).toEqual([2, 2, 2]);
    await ok.delete([passages[0]!.id]);
    expect([ok.size(), bm25.size(), store.size()]).toEqual([1, 1, 1]);
    expect((await ok.search('mitochondria powerhouse', 5)).map((h) => h.id)).not.toContain(
      passages[0]!.id,
    );
  });

  it('rejects configurations that cannot retrieve', () => {
    expect(() => new Retriever({ bm25: false })).toThrow(/needs bm25, or an embedder and a store/);
    expect(() => new Retriever({ embedder: hashing })).toThrow(/embedder and store go together/);
    expect(() => new Retriever({ fusion: 'max' as never })).toThrow(
      /fusion must be 'rrf' or 'weighted'/,
    );
    expect(() => new Retriever({ topK: 3 } as never)).toThrow(/unknown option "topK"/);
  });

  it('names an empty or blank query before searching either half', async () => {
    const retriever = new Retriever({ embedder: hashing, store: new FlatIndex({ dimension: 32 }) });
    await retriever.add(passages);
    for (const query of ['', ' \n\t '])
      await expect(retriever.search(query, 3)).rejects.toThrow(
        `Retriever.search: query must be text that is not empty or only whitespace, got ${JSON.stringify(query)}`,
      );
    await expect(retriever.search(undefined as never, 3)).rejects.toThrow(
      'Retriever.search: query must be a string, got undefined',
    );
  });

  it('restores passages whose vectors a loaded index holds, answering as the original', async () => {
    const store = new HnswIndex({ dimension: 32 });
    const original = new Retriever({ embedder: hashing, store });
    await original.add(passages);
    const loaded = HnswIndex.fromBytes(store.toBytes());
    let embedded = 0;
    const counting: Embedder = {
      embed: (texts) => {
        embedded += texts.length;
        return hashing.embed(texts);
      },
    };
    const restored = new Retriever({ embedder: counting, store: loaded });
    await restored.restore(passages);
    expect(embedded).toBe(0);
    expect(await restored.search('what makes ATP', 3)).toEqual(
      await original.search('what makes ATP', 3),
    );
    expect(restored.size()).toBe(passages.length);
    await expect(
      new Retriever({ embedder: hashing, store: loaded }).restore(passages.slice(1)),
    ).rejects.toThrow(
      `Retriever.restore: the store holds ${passages.length} vectors, expected one per passage (${passages.length - 1})`,
    );
  });
});
