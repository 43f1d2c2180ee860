import type { LanguageModel } from '@tessera/eval';
import {
  type BeirDataset,
  type BeirDocument,
  beirDocumentText,
  evaluateRun,
  FlatIndex,
  type Passage,
  Retriever,
  type TokenizerLike,
} from '@tessera/rag';
import { loadBeir } from '@tessera/rag/node';
import { Progress, type ProgressSink } from '../progress.js';
import { asEmbedder } from './adapters.js';
import { answerPrompt } from './answer-prompt.js';
import { METHODS, type Method, type MethodSettings, methodRetriever } from './retrieval-methods.js';
import type { RetrievalModels, TunedRetrieval } from './retrieval-models.js';

/** The figures of one method: the mean over the split's queries. */
export interface RetrievalFigures {
  'nDCG@10': number;
  'Recall@10': number;
  MRR: number;
}

/** One row of the metrics table. */
export interface MethodFigures extends RetrievalFigures {
  method: Method;
}

/** The corpus of a BEIR data set as passages (title and text, as BEIR's retrievers index them). */
export function corpusPassages(data: BeirDataset): Passage[] {
  return [...data.corpus].map(([id, doc]) => ({ id, text: beirDocumentText(doc) }));
}

/**
 * The passages embedded by the bi-encoder into an exact cosine index (so that dense figures are
 * the model's, not an approximate index's), each passage cut at the encoder's window.
 */
export async function embedPassages(
  passages: readonly Passage[],
  models: RetrievalModels,
  sink?: ProgressSink,
): Promise<FlatIndex> {
  const store = new FlatIndex({ dimension: models.manifest.model.dModel });
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
  return store;
}

/**
 * The retrievers `rag eval` compares ({@link METHODS}, `methodRetriever`) over passages embedded
 * in `store` ({@link embedPassages}).
 */
export async function buildRetrievers(
  passages: readonly Passage[],
  models: RetrievalModels,
  store: FlatIndex,
  o: MethodSettings & { denseWeight: number },
): Promise<Record<Method, Retriever>> {
  const retrievers = Object.fromEntries(
    METHODS.map((m) => [m, methodRetriever(m, models, store, o)]),
  ) as Record<Method, Retriever>;
  for (const r of Object.values(retrievers)) await r.restore(passages);
  return retrievers;
}

/**
 * nDCG@10, recall@10 and MRR (trec_eval conventions, `@tessera/rag`'s `evaluateRun`) of one
 * retriever on the data set's queries, ranking the top 100.
 */
export async function evaluateRetriever(
  data: BeirDataset,
  retriever: Retriever,
  label: string,
  sink?: ProgressSink,
): Promise<RetrievalFigures> {
  const run: Record<string, Record<string, number>> = {};
  const progress = new Progress(label, data.queries.size, sink);
  let done = 0;
  for (const [id, text] of data.queries) {
    const hits = await retriever.search(text, 100);
    run[id] = Object.fromEntries(hits.map((h) => [h.id, h.score]));
    progress.update(++done);
  }
  const { mean } = evaluateRun(run, data.qrels, { cutoffs: [10] });
  return { 'nDCG@10': mean['nDCG@10']!, 'Recall@10': mean['Recall@10']!, MRR: mean.MRR! };
}

/** The figures of each method on the data set's queries, in the order of {@link METHODS}. */
export async function evaluateRetrievers(
  data: BeirDataset,
  retrievers: Record<Method, Retriever>,
  sink?: ProgressSink,
): Promise<MethodFigures[]> {
  const rows: MethodFigures[] = [];
  for (const method of METHODS)
    rows.push({ method, ...(await evaluateRetriever(data, retrievers[method], method, sink)) });
  return rows;
}

/** The dense weights {@link tuneDenseWeight} tries: 0, 0.1, …, 1. */
export const DENSE_WEIGHTS = Array.from({ length: 11 }, (_, i) => i / 10);

/**
 * The dense weight of weighted fusion chosen on a tuning split (`rag bench`'s dev questions, which
 * neither encoder trained on): the weight of {@link DENSE_WEIGHTS} whose fusion has the highest
 * mean nDCG@10 on `data`'s queries, the smaller on a tie. Returns it with every weight's nDCG@10.
 */
export async function tuneDenseWeight(
  data: BeirDataset,
  passages: readonly Passage[],
  models: RetrievalModels,
  store: FlatIndex,
  sink?: ProgressSink,
): Promise<{ weight: number; ndcg: number[] }> {
  const ndcg: number[] = [];
  for (const w of DENSE_WEIGHTS) {
    const r = methodRetriever('hybrid-weighted', models, store, { denseWeight: w });
    await r.restore(passages);
    ndcg.push((await evaluateRetriever(data, r, `weight ${w.toFixed(1)}`, sink))['nDCG@10']);
  }
  return { weight: DENSE_WEIGHTS[ndcg.indexOf(Math.max(...ndcg))]!, ndcg };
}

/**
 * The retrieval `rag query` and `agent` use by default, chosen on the tuning split `split`
 * (`data`'s queries): the dense weight by {@link tuneDenseWeight}, then, at that weight, the
 * method of {@link METHODS} with the best nDCG@10 (the earlier in the list on a tie).
 */
export async function tuneRetrieval(
  data: BeirDataset,
  split: string,
  passages: readonly Passage[],
  models: RetrievalModels,
  store: FlatIndex,
  sink?: ProgressSink,
): Promise<TunedRetrieval> {
  const { weight, ndcg } = await tuneDenseWeight(data, passages, models, store, sink);
  const retrievers = await buildRetrievers(passages, models, store, { denseWeight: weight });
  const rows = await evaluateRetrievers(data, retrievers, sink);
  const best = rows.reduce((a, b) => (b['nDCG@10'] > a['nDCG@10'] ? b : a));
  return {
    method: best.method,
    denseWeight: weight,
    split,
    questions: data.queries.size,
    weights: DENSE_WEIGHTS.map((weight, i) => ({ weight, ndcg: ndcg[i]! })),
    methods: Object.fromEntries(rows.map((r) => [r.method, r['nDCG@10']])) as Record<
      Method,
      number
    >,
  };
}

/** What `rag eval` measures on a benchmark folder (`rag bench`'s BEIR files). */
export interface BenchmarkEvaluation {
  /** The qrels split evaluated, its questions and the corpus's passages. */
  split: string;
  questions: number;
  passages: number;
  /** The retrieval chosen on the tuning split: the dense weight of weighted fusion and the method of `rag query` ({@link tuneRetrieval}). */
  tuned: TunedRetrieval;
  /** Each method's figures on the evaluated split, in the order of {@link METHODS}. */
  rows: MethodFigures[];
}

/**
 * `rag eval`'s measurement: embeds the corpus of the BEIR folder `bench` with the bi-encoder,
 * takes the retrieval `rag train` chose and recorded (`models.manifest.tuned`) — or, given
 * `tuning`, chooses it again on that split ({@link tuneRetrieval}) — and scores every method on
 * the `split` split. Returns the figures, and the data set and retrievers for what follows.
 *
 * @throws Error - a missing or malformed BEIR file or split (`loadBeir`'s, naming the file); no
 *   `tuning` for models that record no choice
 */
export async function evaluateBenchmark(
  bench: string,
  models: RetrievalModels,
  o: { split: string; tuning?: { split: string; data: BeirDataset }; sink?: ProgressSink },
): Promise<{
  figures: BenchmarkEvaluation;
  data: BeirDataset;
  retrievers: Record<Method, Retriever>;
}> {
  if (!o.tuning && !models.manifest.tuned)
    throw new Error(
      'evaluateBenchmark: the models record no tuned retrieval (rag train records one on its --tune split); give tuning',
    );
  const data = await loadBeir(bench, o.split);
  const passages = corpusPassages(data);
  const store = await embedPassages(passages, models, o.sink);
  const tuned = o.tuning
    ? await tuneRetrieval(o.tuning.data, o.tuning.split, passages, models, store, o.sink)
    : models.manifest.tuned!;
  const retrievers = await buildRetrievers(passages, models, store, tuned);
  const rows = await evaluateRetrievers(data, retrievers, o.sink);
  const figures = {
    split: o.split,
    questions: data.queries.size,
    passages: data.corpus.size,
    tuned,
    rows,
  };
  return { figures, data, retrievers };
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
 * answered greedily by `lm` (`maxTokens` new tokens) from the question alone, or — with a
 * retriever — from the prompt `rag query` builds: the top `k` passages cited by number, fitted
 * to the model's window beside the answer (`answerPrompt` with {@link ANSWER_INSTRUCTIONS}). A
 * question whose instructions and question alone do not fit is not asked and counts as wrong;
 * `fitted` counts the questions whose prompt fit (all of them without a retriever).
 */
export async function answerAccuracy(
  lm: LanguageModel,
  questions: readonly QuestionAnswer[],
  retriever: Retriever | undefined,
  o: {
    k: number;
    tokenizer: TokenizerLike;
    window: number;
    maxTokens: number;
    sink?: ProgressSink;
  },
): Promise<{ accuracy: number; answers: (string | null)[]; fitted: number }> {
  const answers: (string | null)[] = [];
  let correct = 0;
  let fitted = 0;
  const progress = new Progress(retriever ? 'with RAG' : 'no RAG', questions.length, o.sink);
  for (const q of questions) {
    let prompt: string | null = `Question: ${q.question}\nAnswer:`;
    if (retriever) {
      const hits = await retriever.search(q.question, o.k);
      try {
        prompt = answerPrompt(q.question, hits, {
          tokenizer: o.tokenizer,
          window: o.window,
          maxNewTokens: o.maxTokens,
          instructions: ANSWER_INSTRUCTIONS,
        }).prompt;
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        prompt = null;
      }
    }
    const answer =
      prompt === null
        ? null
        : await lm.generate(prompt, { maxTokens: o.maxTokens, stop: ['\n\n'] });
    answers.push(answer);
    if (answer !== null) fitted++;
    if (answer?.toLowerCase().includes(q.answer.toLowerCase())) correct++;
    progress.update(answers.length);
  }
  return { accuracy: correct / questions.length, answers, fitted };
}

/** What {@link choiceAccuracy} measured. */
export interface ChoiceFigures {
  /** Share of questions whose chosen speaker is the answer. */
  accuracy: number;
  /** Expected accuracy of a uniformly random choice among the same candidates. */
  chance: number;
  /** Share of questions whose answer is among the candidates: the ceiling of any choice. */
  reachable: number;
  /** The chosen speaker of each question. */
  answers: string[];
}

/**
 * A reader fair to a small language model: it chooses the answer among the speakers (BEIR titles)
 * of the top `k` passages `retriever` finds, by the model's log-likelihood of the question after
 * each candidate's context — ranking by generation (dos Santos et al., "Beyond [CLS] through
 * Ranking by Generation", 2020: score = log P(question | passage)), so nothing is generated and
 * every context fits the model's window (the model cuts a context from the left). With
 * `passages`, a candidate's context is its passage in the play's own format (`SPEAKER:\ntext`,
 * then a blank line); without, its name line alone (`SPEAKER:\n`), so the model chooses from
 * what it knows. Both choose among the same candidates, so their chance levels are the same.
 */
export async function choiceAccuracy(
  lm: LanguageModel,
  questions: readonly QuestionAnswer[],
  retriever: Retriever,
  corpus: ReadonlyMap<string, BeirDocument>,
  o: { k: number; passages: boolean; sink?: ProgressSink },
): Promise<ChoiceFigures> {
  const answers: string[] = [];
  let correct = 0;
  let chance = 0;
  let reachable = 0;
  const label = o.passages ? 'choice, passages' : 'choice, names';
  const progress = new Progress(label, questions.length, o.sink);
  for (const q of questions) {
    let best = { speaker: '', score: -Infinity };
    const speakers = new Set<string>();
    for (const hit of await retriever.search(q.question, o.k)) {
      const doc = corpus.get(hit.id);
      if (!doc?.title)
        throw new RangeError(`choiceAccuracy: passage ${hit.id} has no title (speaker)`);
      if (!o.passages && speakers.has(doc.title)) continue;
      speakers.add(doc.title);
      const context = o.passages ? `${doc.title}:\n${doc.text}\n\n` : `${doc.title}:\n`;
      const score = await lm.logLikelihood(context, q.question);
      if (score > best.score) best = { speaker: doc.title, score };
    }
    answers.push(best.speaker);
    const right = (s: string) => s.toLowerCase() === q.answer.toLowerCase();
    if (right(best.speaker)) correct++;
    if ([...speakers].some(right)) {
      reachable++;
      chance += 1 / speakers.size;
    }
    progress.update(answers.length);
  }
  const n = questions.length;
  return { accuracy: correct / n, chance: chance / n, reachable: reachable / n, answers };
}
