import { join } from 'node:path';
import type { LanguageModel } from '@tessera/eval';
import { Bm25Index, evaluateRun, Retriever } from '@tessera/rag';
import { loadBeir } from '@tessera/rag/node';
import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { readText } from '../data.js';
import { lines, tempDir, data as textData } from '../test-utils/fixtures.js';
import { PASSAGES, QUESTIONS, tinyModels } from '../test-utils/retrieval.js';
import { asEmbedder } from './adapters.js';
import { buildBenchmark, writeBenchmark } from './benchmark.js';
import {
  answerAccuracy,
  buildRetrievers,
  choiceAccuracy,
  corpusPassages,
  DENSE_WEIGHTS,
  embedPassages,
  evaluateBenchmark,
  evaluateRetriever,
  evaluateRetrievers,
  formatMetricsTable,
  tuneDenseWeight,
  tuneRetrieval,
} from './evaluate-retrieval.js';
import { METHODS } from './retrieval-methods.js';

const device = await T.createDevice({ backend: 'cpu' });
const speakers = ['KING', 'MAID', 'SAILOR', 'GROOM', 'COOK', 'MISER'];
const data = {
  corpus: new Map(PASSAGES.map((text, i) => [`p${i}`, { title: speakers[i]!, text }])),
  queries: new Map(QUESTIONS.map((q, i) => [`q${i}`, q])),
  qrels: Object.fromEntries(QUESTIONS.map((_, i) => [`q${i}`, { [`p${i}`]: 1 }])),
};
const models = tinyModels(device);
const passages = corpusPassages(data);
const store = await embedPassages(passages, models, lines());
const retrievers = await buildRetrievers(passages, models, store, {
  denseWeight: 0.5,
  rerankDepth: 4,
});

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
      method: 'bm25',
      'nDCG@10': want['nDCG@10'],
      'Recall@10': want['Recall@10'],
      MRR: want.MRR,
    });
    for (const r of rows) expect(r['Recall@10']).toBe(1); // six passages: all are in the top 10
    expect(formatMetricsTable(rows).split('\n')[2]).toBe(
      `| bm25 | ${want['nDCG@10']!.toFixed(4)} | 1.0000 | ${want.MRR!.toFixed(4)} |`,
    );
  });

  it('reranks only the fused top candidates', async () => {
    const hits = await retrievers['hybrid-rerank'].search(QUESTIONS[0]!, 10);
    expect(hits).toHaveLength(4);
  });

  it('chooses the dense weight of weighted fusion with the best nDCG@10 on the tuning questions', async () => {
    const { weight, ndcg } = await tuneDenseWeight(data, passages, models, store, lines());
    expect(ndcg).toHaveLength(DENSE_WEIGHTS.length);
    expect(ndcg.indexOf(Math.max(...ndcg))).toBe(DENSE_WEIGHTS.indexOf(weight));
    const embedder = asEmbedder(models.biEncoder, models.tokenizer);
    for (const i of [0, 3, 10]) {
      const w = DENSE_WEIGHTS[i]!;
      const r = new Retriever({ embedder, store, fusion: 'weighted', weights: [1 - w, w] });
      await r.restore(passages);
      expect(ndcg[i]).toBe((await evaluateRetriever(data, r, 'check', lines()))['nDCG@10']);
    }
  });

  it('measures a benchmark folder as rag eval does: the retrieval chosen on dev, every method on test', async () => {
    const dir = join(tempDir(), 'bench');
    writeBenchmark(dir, buildBenchmark(readText(textData), { passages: 30 }));
    const test = await loadBeir(dir, 'test');
    const dev = await loadBeir(dir, 'dev');
    await expect(evaluateBenchmark(dir, models, { split: 'test' })).rejects.toThrow(
      'evaluateBenchmark: the models record no tuned retrieval',
    );
    const r = await evaluateBenchmark(dir, models, {
      split: 'test',
      tuning: { split: 'dev', data: dev },
      sink: lines(),
    });
    expect(r.data).toEqual(test);
    const corpus = corpusPassages(test);
    const store = await embedPassages(corpus, models, lines());
    const tuned = await tuneRetrieval(dev, 'dev', corpus, models, store, lines());
    expect(r.figures).toEqual({
      split: 'test',
      questions: test.queries.size,
      passages: 30,
      tuned,
      rows: await evaluateRetrievers(test, r.retrievers, lines()),
    });
    expect(r.figures.questions).toBeGreaterThan(0);
    // Models that record their choice are measured with it, not tuned again.
    const recorded = {
      ...models,
      manifest: { ...models.manifest, tuned: { ...tuned, denseWeight: 1 } },
    };
    const again = await evaluateBenchmark(dir, recorded, { split: 'test', sink: lines() });
    expect(again.figures.tuned.denseWeight).toBe(1);
  });

  it('chooses the weight, then the method with the best nDCG@10 at that weight, for rag query', async () => {
    const tuned = await tuneRetrieval(data, 'dev', passages, models, store, lines());
    const { weight, ndcg } = await tuneDenseWeight(data, passages, models, store, lines());
    expect(tuned.denseWeight).toBe(weight);
    expect(tuned.weights).toEqual(DENSE_WEIGHTS.map((weight, i) => ({ weight, ndcg: ndcg[i] })));
    const at = await buildRetrievers(passages, models, store, { denseWeight: weight });
    const rows = await evaluateRetrievers(data, at, lines());
    expect(tuned.methods).toEqual(Object.fromEntries(rows.map((r) => [r.method, r['nDCG@10']])));
    const best = Math.max(...rows.map((r) => r['nDCG@10']));
    expect(tuned.method).toBe(rows.find((r) => r['nDCG@10'] === best)!.method);
    expect(tuned).toMatchObject({ split: 'dev', questions: 6 });
  });

  it('reads by choosing among the retrieved speakers, scoring the question after each context', async () => {
    // A model that finds the question likeliest after the passage sharing the most of its words.
    const contexts: string[] = [];
    const overlap: LanguageModel = {
      id: 'overlap',
      logLikelihood: (context, question) => {
        contexts.push(context);
        return question.split(' ').filter((w) => context.includes(w)).length;
      },
      generate: () => '',
    };
    const bm25 = new Retriever();
    await bm25.add(passages);
    const questions = QUESTIONS.map((question, i) => ({ question, answer: speakers[i]! }));
    const o = { k: 3, passages: true, sink: lines() };
    const read = await choiceAccuracy(overlap, questions, bm25, data.corpus, o);
    expect(contexts[0]).toBe(`${speakers[0]}:\n${PASSAGES[0]}\n\n`);
    expect(read.answers).toHaveLength(6);
    const top = await Promise.all(QUESTIONS.map((q) => bm25.search(q, 3)));
    const found = top.map((hits, i) => hits.some((h) => h.id === `p${i}`));
    expect(read.reachable).toBeCloseTo(found.filter(Boolean).length / 6, 10);
    // Six speakers, one passage each: a random choice is right once in as many as were found.
    const chance = top.reduce((sum, hits, i) => sum + (found[i] ? 1 / hits.length : 0), 0);
    expect(read.chance).toBeCloseTo(chance / 6, 10);
    expect(read.accuracy).toBeGreaterThan(read.chance);
    contexts.length = 0;
    const names = await choiceAccuracy(overlap, questions, bm25, data.corpus, {
      ...o,
      passages: false,
    });
    expect(new Set(contexts)).toEqual(
      new Set(top.flat().map((h) => `${data.corpus.get(h.id)!.title}:\n`)),
    );
    expect(names.chance).toBeCloseTo(read.chance, 10);
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
    // A tokenizer of one token per character: the window is in characters.
    const tokenizer = { encode: (text: string) => [...text].map((c) => c.charCodeAt(0)) };
    const o = { k: 1, tokenizer, window: 2000, maxTokens: 8, sink: lines() };
    const without = await answerAccuracy(reader, questions, undefined, o);
    expect(without.accuracy).toBe(0);
    const withRag = await answerAccuracy(reader, questions, bm25, o);
    const bm25Top1 = (
      await Promise.all(QUESTIONS.map(async (q, i) => (await bm25.search(q, 1))[0]!.id === `p${i}`))
    ).filter(Boolean).length;
    expect(withRag.accuracy).toBeCloseTo(bm25Top1 / 6, 10);
    expect(withRag.accuracy).toBeGreaterThan(0.5);
    expect(withRag.fitted).toBe(6);
    // A window too short for the instructions and the question: nothing asked, all wrong.
    const short = await answerAccuracy(reader, questions, bm25, { ...o, window: 40 });
    expect(short).toEqual({ accuracy: 0, answers: Array(6).fill(null), fitted: 0 });
  });
});
