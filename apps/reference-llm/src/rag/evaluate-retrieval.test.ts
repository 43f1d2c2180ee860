import type { LanguageModel } from '@tessera/eval';
import { Bm25Index, evaluateRun, Retriever } from '@tessera/rag';
import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { lines } from '../test-utils/fixtures.js';
import { PASSAGES, QUESTIONS, tinyModels } from '../test-utils/retrieval.js';
import {
  answerAccuracy,
  buildRetrievers,
  corpusPassages,
  evaluateRetrievers,
  formatMetricsTable,
  METHODS,
} from './evaluate-retrieval.js';

const device = await T.createDevice({ backend: 'cpu' });
const speakers = ['KING', 'MAID', 'SAILOR', 'GROOM', 'COOK', 'MISER'];
const data = {
  corpus: new Map(PASSAGES.map((text, i) => [`p${i}`, { title: speakers[i]!, text }])),
  queries: new Map(QUESTIONS.map((q, i) => [`q${i}`, q])),
  qrels: Object.fromEntries(QUESTIONS.map((_, i) => [`q${i}`, { [`p${i}`]: 1 }])),
};
const retrievers = await buildRetrievers(corpusPassages(data), tinyModels(device), 4, lines());

describe('evaluating retrieval', () => {
  it('scores each method with trec_eval conventions; BM25 as an index of its own would', async () => {
    const rows = await evaluateRetrievers(data, retrievers, lines());
    expect(rows.map((r) => r.method)).toEqual([...METHODS]);
    const bm25 = new Bm25Index();
    bm25.add(corpusPassages(data));
    const run = Object.fromEntries(
      [...data.queries].map(([id, q]) => [
        id,
        Object.fromEntries(bm25.search(q, 100).map((h) => [h.id, h.score])),
      ]),
    );
    const want = evaluateRun(run, data.qrels, { cutoffs: [10] }).mean;
    expect(rows[0]).toEqual({
      method: 'BM25',
      'nDCG@10': want['nDCG@10'],
      'Recall@10': want['Recall@10'],
      MRR: want.MRR,
    });
    for (const r of rows) expect(r['Recall@10']).toBe(1); // six passages: all are in the top 10
    expect(formatMetricsTable(rows).split('\n')[2]).toBe(
      `| BM25 | ${want['nDCG@10']!.toFixed(4)} | 1.0000 | ${want.MRR!.toFixed(4)} |`,
    );
  });

  it('reranks only the fused top candidates', async () => {
    const hits = await retrievers['hybrid + rerank'].search(QUESTIONS[0]!, 10);
    expect(hits).toHaveLength(4);
  });

  it('measures answers with and without retrieval', async () => {
    // A reader that answers with the first speaker named in its prompt, as a text extractor would.
    const reader: LanguageModel = {
      id: 'reader',
      logLikelihood: () => 0,
      generate: (prompt) => speakers.find((s) => prompt.includes(s)) ?? 'nobody',
    };
    const bm25 = new Retriever();
    await bm25.add(corpusPassages(data));
    const questions = QUESTIONS.map((question, i) => ({
      question,
      answer: speakers[i]!.toLowerCase(),
    }));
    const o = { k: 1, maxPromptChars: 2000, maxTokens: 8, sink: lines() };
    const without = await answerAccuracy(reader, questions, undefined, o);
    expect(without.accuracy).toBe(0);
    const withRag = await answerAccuracy(reader, questions, bm25, o);
    const bm25Top1 = (
      await Promise.all(QUESTIONS.map(async (q, i) => (await bm25.search(q, 1))[0]!.id === `p${i}`))
    ).filter(Boolean).length;
    expect(withRag.accuracy).toBeCloseTo(bm25Top1 / 6, 10);
    expect(withRag.accuracy).toBeGreaterThan(0.5);
  });
});
