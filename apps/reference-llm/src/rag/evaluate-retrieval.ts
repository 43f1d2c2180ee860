import type { LanguageModel } from '@tessera/eval';
import {
  augmentPrompt,
  type BeirDataset,
  beirDocumentText,
  evaluateRun,
  FlatIndex,
  type Passage,
  Retriever,
} from '@tessera/rag';
import { Progress, type ProgressSink } from '../progress.js';
import { asEmbedder, asReranker } from './adapters.js';
import type { RetrievalModels } from './retrieval-models.js';

/** The retrieval methods `rag eval` compares, in the order of its table. */
export const METHODS = ['BM25', 'dense', 'hybrid', 'hybrid + rerank'] as const;
export type Method = (typeof METHODS)[number];

/** One row of the metrics table: the mean over the split's queries. */
export interface MethodFigures {
  method: Method;
  'nDCG@10': number;
  'Recall@10': number;
  MRR: number;
}

/** The corpus of a BEIR data set as passages (title and text, as BEIR's retrievers index them). */
export function corpusPassages(data: BeirDataset): Passage[] {
  return [...data.corpus].map(([id, doc]) => ({ id, text: beirDocumentText(doc) }));
}

/**
 * The four retrievers over one corpus: BM25 alone, the bi-encoder alone (exact cosine search,
 * so the figures are the model's, not an approximate index's), both fused by reciprocal rank
 * (k = 60), and that fusion reranked by the cross-encoder over its top `rerankDepth`. The corpus
 * is embedded once, each passage cut at the encoder's window.
 */
export async function buildRetrievers(
  passages: readonly Passage[],
  models: RetrievalModels,
  rerankDepth = 20,
  sink?: ProgressSink,
): Promise<Record<Method, Retriever>> {
  const store = new FlatIndex({ dimension: models.manifest.model.dModel });
  // Passages are cut at the encoder's window; a question longer than it is an error.
  const corpus = new Retriever({
    bm25: false,
    embedder: asEmbedder(models.biEncoder, models.tokenizer, true),
    store,
  });
  const progress = new Progress('embed', passages.length, sink);
  for (let from = 0; from < passages.length; from += 64) {
    await corpus.add(passages.slice(from, from + 64));
    progress.update(Math.min(passages.length, from + 64));
  }
  const embedder = asEmbedder(models.biEncoder, models.tokenizer);
  const reranker = asReranker(models.crossEncoder, models.tokenizer);
  const bm25 = new Retriever();
  const dense = new Retriever({ bm25: false, embedder, store });
  const hybrid = new Retriever({ embedder, store });
  const reranked = new Retriever({ embedder, store, reranker, candidates: rerankDepth });
  for (const r of [bm25, dense, hybrid, reranked]) await r.restore(passages);
  return { BM25: bm25, dense, hybrid, 'hybrid + rerank': reranked };
}

/**
 * nDCG@10, recall@10 and MRR (trec_eval conventions, `@tessera/rag`'s `evaluateRun`) of each
 * method on the data set's queries, ranking the top 100.
 */
export async function evaluateRetrievers(
  data: BeirDataset,
  retrievers: Record<Method, Retriever>,
  sink?: ProgressSink,
): Promise<MethodFigures[]> {
  const rows: MethodFigures[] = [];
  for (const method of METHODS) {
    const run: Record<string, Record<string, number>> = {};
    const progress = new Progress(method, data.queries.size, sink);
    let done = 0;
    for (const [id, text] of data.queries) {
      const hits = await retrievers[method].search(text, 100);
      run[id] = Object.fromEntries(hits.map((h) => [h.id, h.score]));
      progress.update(++done);
    }
    const { mean } = evaluateRun(run, data.qrels, { cutoffs: [10] });
    rows.push({
      method,
      'nDCG@10': mean['nDCG@10']!,
      'Recall@10': mean['Recall@10']!,
      MRR: mean.MRR!,
    });
  }
  return rows;
}

/** The metrics table as Markdown, four decimals. */
export function formatMetricsTable(rows: readonly MethodFigures[]): string {
  const cols = ['nDCG@10', 'Recall@10', 'MRR'] as const;
  return [
    `| method | ${cols.join(' | ')} |`,
    `| --- | ${cols.map(() => '---:').join(' | ')} |`,
    ...rows.map((r) => `| ${r.method} | ${cols.map((c) => r[c].toFixed(4)).join(' | ')} |`),
  ].join('\n');
}

/** The instructions of the answer prompts: short, as a small model's window is. */
export const ANSWER_INSTRUCTIONS = 'Answer from the sources.';

/** A held-out question and the answer it is scored against. */
export interface QuestionAnswer {
  question: string;
  answer: string;
}

/**
 * The share of questions whose generated answer contains the expected answer (case-insensitive),
 * answered greedily by `lm` from the question alone, or — with a retriever — from a prompt with
 * the top `k` passages cited by number (`augmentPrompt` with {@link ANSWER_INSTRUCTIONS}, as
 * many passages as fit `maxPromptChars`).
 */
export async function answerAccuracy(
  lm: LanguageModel,
  questions: readonly QuestionAnswer[],
  retriever: Retriever | undefined,
  o: { k: number; maxPromptChars: number; maxTokens: number; sink?: ProgressSink },
): Promise<{ accuracy: number; answers: string[] }> {
  const answers: string[] = [];
  let correct = 0;
  const progress = new Progress(retriever ? 'with RAG' : 'no RAG', questions.length, o.sink);
  for (const q of questions) {
    const prompt = retriever
      ? augmentPrompt(q.question, await retriever.search(q.question, o.k), {
          maxTokens: o.maxPromptChars,
          instructions: ANSWER_INSTRUCTIONS,
        }).prompt
      : `Question: ${q.question}\nAnswer:`;
    const answer = await lm.generate(prompt, { maxTokens: o.maxTokens, stop: ['\n\n'] });
    answers.push(answer);
    if (answer.toLowerCase().includes(q.answer.toLowerCase())) correct++;
    progress.update(answers.length);
  }
  return { accuracy: correct / questions.length, answers };
}
