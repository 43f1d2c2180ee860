import { Retriever } from '@tessera/rag';
import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { lines } from '../test-utils/fixtures.js';
import { PASSAGES, QUESTIONS, tinyModels } from '../test-utils/retrieval.js';
import { asEmbedder, asReranker } from './adapters.js';
import { corpusPassages, embedPassages } from './evaluate-retrieval.js';
import { describeMethod, METHODS, methodRetriever } from './retrieval-methods.js';

const device = await T.createDevice({ backend: 'cpu' });
const models = tinyModels(device);
const passages = corpusPassages({
  corpus: new Map(PASSAGES.map((text, i) => [`p${i}`, { title: '', text }])),
  queries: new Map(),
  qrels: {},
});
const store = await embedPassages(passages, models, lines());
const embedder = asEmbedder(models.biEncoder, models.tokenizer);

/** Each method's hits for every question, and those of the retriever it is meant to be. */
async function same(made: Retriever, want: Retriever) {
  await made.restore(passages);
  await want.restore(passages);
  for (const q of QUESTIONS) expect(await made.search(q, 6)).toEqual(await want.search(q, 6));
}

describe('retrieval methods', () => {
  it('builds each method as the retriever it names', async () => {
    const w = 0.3;
    const weighted = { embedder, store, fusion: 'weighted', weights: [1 - w, w] } as const;
    const want = {
      bm25: new Retriever(),
      dense: new Retriever({ bm25: false, embedder, store }),
      'hybrid-rrf': new Retriever({ embedder, store }),
      'hybrid-weighted': new Retriever(weighted),
      'hybrid-rerank': new Retriever({
        ...weighted,
        reranker: asReranker(models.crossEncoder, models.tokenizer),
        candidates: 2,
      }),
    };
    for (const m of METHODS)
      await same(methodRetriever(m, models, store, { denseWeight: w, rerankDepth: 2 }), want[m]);
  });

  it('needs a dense weight in [0, 1] for the weighted methods, and names it in descriptions', () => {
    expect(() => methodRetriever('hybrid-weighted', models, store)).toThrow(
      'hybrid-weighted: the dense weight must be in [0, 1], got undefined',
    );
    expect(() => methodRetriever('hybrid-rerank', models, store, { denseWeight: 1.5 })).toThrow(
      'hybrid-rerank: the dense weight must be in [0, 1], got 1.5',
    );
    expect(describeMethod('hybrid-weighted', 0.4)).toBe('hybrid-weighted (dense weight 0.4)');
    expect(describeMethod('bm25', 0.4)).toBe('bm25');
  });
});
