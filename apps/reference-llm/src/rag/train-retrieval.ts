import { type BeirDataset, Bm25Index } from '@tessera/rag';
import type * as T from '@tessera/tensor-webgpu';
import type { TransformerConfig } from '@tessera/transformer';
import type { ProgressSink } from '../progress.js';
import { BiEncoder, CrossEncoder, retrievalTokenizer } from './encoders.js';
import { corpusPassages, embedPassages, tuneRetrieval } from './evaluate-retrieval.js';
import type { RetrievalModels } from './retrieval-models.js';
import { type RerankExample, trainBiEncoder, trainCrossEncoder } from './train-encoders.js';

/** Settings of `rag train`. */
export interface RetrievalTrainingOptions {
  /** The encoders' shape (both the same), without the vocabulary size. */
  model: Omit<TransformerConfig, 'vocabSize'>;
  vocabSize: number;
  steps: number;
  rerankSteps: number;
  batchSize: number;
  /** AdamW's learning rate for the bi-encoder. */
  lr: number;
  /** AdamW's learning rate for the cross-encoder. */
  rerankLr: number;
  temperature: number;
  /**
   * Negatives per question and step for the reranker, drawn afresh at every step: ⌈n/2⌉ from
   * BM25's 4⌈n/2⌉ best-ranked wrong passages (hard), the rest at random among the training
   * passages, so that the reranker also sees the unrelated passages a dense retriever brings
   * into the fused candidates.
   */
  negatives: number;
  seed: number;
  /**
   * A split neither encoder trains on (`rag bench`'s `dev`) on which, after training, the retrieval
   * `rag query` and `agent` use by default is chosen (`tuneRetrieval`) and recorded as the
   * manifest's `tuned`. Without it nothing is recorded.
   */
  tune?: { split: string; data: BeirDataset };
  sink?: ProgressSink;
}

/** The encoders `rag train` builds by default: small enough to train in minutes on a CPU. */
export const DEFAULT_ENCODER: RetrievalTrainingOptions['model'] = {
  dModel: 64,
  layers: 2,
  heads: 4,
  maxSeqLen: 192,
  ffn: 'gelu',
  norm: 'layer',
  seed: 1,
};

/** `rag train`'s defaults: 300 steps of 32 questions for each encoder, AdamW, the default encoders. */
export const RETRIEVAL_TRAINING: Omit<RetrievalTrainingOptions, 'sink'> = {
  model: DEFAULT_ENCODER,
  vocabSize: 1024,
  steps: 300,
  rerankSteps: 300,
  batchSize: 32,
  lr: 1e-4,
  rerankLr: 1e-3,
  temperature: 0.05,
  negatives: 3,
  seed: 1,
};

/**
 * BM25's best-ranked passages for a question that are not among its relevant ones: the hard
 * negatives a reranker learns from (as in monoBERT and RocketQA's denoised BM25 negatives). When
 * BM25 finds fewer (a question sharing few words with the corpus), the rest come from `fill`, in
 * order.
 */
export function hardNegatives(
  bm25: Bm25Index,
  query: string,
  relevant: ReadonlySet<string>,
  count: number,
  fill: readonly string[],
): string[] {
  const out = new Set<string>();
  for (const id of [...bm25.search(query, count + relevant.size).map((h) => h.id), ...fill]) {
    if (out.size === count) break;
    if (!relevant.has(id)) out.add(id);
  }
  return [...out];
}

/**
 * Trains the retrieval models on a BEIR data set's training split (`saveRetrievalModels` writes them): a
 * BPE tokenizer learned from the corpus and the questions, a bi-encoder (InfoNCE with in-batch
 * negatives on question–passage pairs), and a cross-encoder reranker (listwise loss over each
 * question's passage and `negatives` negatives drawn at each step among the passages the split
 * judges, half of them BM25's hard negatives, half random); with `tune`, then chooses the
 * default retrieval on that split.
 */
export async function trainRetrievalModels(
  data: BeirDataset,
  device: T.Device,
  o: RetrievalTrainingOptions,
): Promise<RetrievalModels> {
  const passages = corpusPassages(data);
  const text = new Map(passages.map((p) => [p.id, p.text]));
  const judged = [...data.queries].map(([id, query]) => ({
    query,
    relevant: new Set(Object.keys(data.qrels[id] ?? {}).filter((d) => data.qrels[id]![d]! > 0)),
  }));
  const pairs = judged.flatMap(({ query, relevant }) =>
    [...relevant].map((d) => ({ query, passage: text.get(d)! })),
  );
  if (pairs.length === 0)
    throw new RangeError('rag train: the training split judges no passage relevant');
  const tokenizer = retrievalTokenizer(
    [...passages.map((p) => p.text), ...judged.map((j) => j.query)],
    o.vocabSize,
  );
  const config = { ...o.model, vocabSize: tokenizer.vocabSize };
  const settings = { batchSize: o.batchSize, seed: o.seed, sink: o.sink };
  const biEncoder = new BiEncoder(config, device);
  const bi = await trainBiEncoder(biEncoder, tokenizer, pairs, {
    ...settings,
    lr: o.lr,
    steps: o.steps,
    temperature: o.temperature,
  });
  // Negatives come from the passages the training split judges, never from the rest of the
  // corpus: a held-out passage seen only as a negative would teach the reranker that it is wrong.
  const trainIds = [...new Set(judged.flatMap((j) => [...j.relevant]))];
  const bm25 = new Bm25Index();
  bm25.add(trainIds.map((id) => ({ id, text: text.get(id)! })));
  const hard = Math.ceil(o.negatives / 2);
  const examples: RerankExample[] = judged.flatMap(({ query, relevant }, i) => {
    // A pool of hard negatives four times what a step draws, filled from the training passages
    // (from a place that moves with the question) when BM25 finds too few.
    const fill = [...trainIds.slice((i * 7919) % trainIds.length), ...trainIds];
    const pool = hardNegatives(bm25, query, relevant, 4 * hard, fill);
    return [...relevant].map((d) => ({
      query,
      passage: text.get(d)!,
      negatives: pool.map((id) => text.get(id)!),
    }));
  });
  const crossEncoder = new CrossEncoder(config, device);
  const cross = await trainCrossEncoder(crossEncoder, tokenizer, examples, {
    ...settings,
    lr: o.rerankLr,
    steps: o.rerankSteps,
    hard,
    random: o.negatives - hard,
    passages: trainIds.map((id) => text.get(id)!),
  });
  const { sink: _, tune, ...settingsRecord } = o;
  const models: RetrievalModels = {
    tokenizer,
    biEncoder,
    crossEncoder,
    manifest: {
      format: 2,
      model: config,
      training: {
        settings: settingsRecord,
        pairs: pairs.length,
        biEncoderLoss: bi.trainLoss,
        rerankerLoss: cross.trainLoss,
      },
    },
  };
  if (tune) {
    const tuning = corpusPassages(tune.data);
    const store = await embedPassages(tuning, models, o.sink);
    models.manifest.tuned = await tuneRetrieval(
      tune.data,
      tune.split,
      tuning,
      models,
      store,
      o.sink,
    );
  }
  return models;
}
