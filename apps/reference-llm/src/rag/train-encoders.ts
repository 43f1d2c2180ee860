import type { Module } from '@tessera/nn';
import { AdamW, clipGradNorm } from '@tessera/optim';
import { infoNceLoss, listwiseLoss } from '@tessera/rag/losses';
import * as T from '@tessera/tensor-webgpu';
import type { Tokenizer } from '@tessera/tokenizer';
import { type History, runTrainingLoop } from '../loop.js';
import { Progress, type ProgressSink } from '../progress.js';
import { type BiEncoder, type CrossEncoder, padRows } from './encoders.js';

/** How an encoder is trained: steps, examples per step, AdamW's learning rate, the sampling seed. */
export interface EncoderTraining {
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** Where the progress bar goes (default standard error). */
  sink?: ProgressSink;
}

/** A question and the passage that answers it. */
export interface QueryPair {
  query: string;
  passage: string;
}

/** A question, its passage, and passages that look relevant but are not (hard negatives). */
export interface RerankExample extends QueryPair {
  negatives: string[];
}

/**
 * How a reranker's negatives are drawn, afresh at every step: `hard` from each example's
 * `negatives` and `random` from all of `passages` (never the example's own passage). Fresh draws
 * matter: with the same few negatives at every step a cross-encoder learns which passages were
 * wrong for which question rather than how a question matches a passage, and then ranks the
 * passages it never saw beside a question as high as the answer.
 */
export interface NegativeSampling {
  hard: number;
  random: number;
  passages: readonly string[];
}

/** `batchSize` distinct example indices of step `step` (a function of the step, as the loop wants). */
function batchOf(count: number, batchSize: number, seed: number, step: number): number[] {
  const rng = new T.Rng(seed * 1_000_003 + step);
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = 0; i < Math.min(batchSize, count); i++) {
    const j = i + Math.floor(rng.next() * (count - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, Math.min(batchSize, count));
}

/** `count` distinct items of `pool` other than those in `taken`, drawn with `rng`. */
function drawDistinct<X>(pool: readonly X[], count: number, taken: X[], rng: T.Rng): X[] {
  const out: X[] = [];
  const free = pool.filter((x) => !taken.includes(x));
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng.next() * (free.length - i));
    [free[i], free[j]] = [free[j]!, free[i]!];
    out.push(free[i]!);
  }
  return out;
}

/** One AdamW step on `loss` with the global gradient norm clipped to 1; returns the loss. */
async function optimize(model: Module, optimizer: AdamW, loss: () => T.Tensor): Promise<number> {
  const value = T.tidy(() => {
    optimizer.zeroGrad();
    const l = loss();
    l.backward();
    clipGradNorm(model.parameters(), 1);
    optimizer.step();
    return l;
  });
  const out = await value.item();
  value.dispose();
  return out;
}

async function train<Batch>(
  label: string,
  model: Module,
  o: EncoderTraining,
  data: (step: number) => Batch,
  loss: (batch: Batch) => T.Tensor,
): Promise<History> {
  if (!(Number.isInteger(o.steps) && o.steps >= 1))
    throw new RangeError(`${label}: steps must be a positive integer, got ${o.steps}`);
  model.train();
  const optimizer = new AdamW(model.parameters(), { lr: o.lr });
  const history: History = { trainLoss: [], val: [] };
  await runTrainingLoop({
    start: 0,
    total: o.steps,
    data,
    step: (batch) => optimize(model, optimizer, () => loss(batch)),
    history,
    progress: new Progress(label, o.steps, o.sink),
  });
  model.eval();
  return history;
}

/**
 * Trains a bi-encoder contrastively: each step takes `batchSize` (question, passage) pairs and
 * minimises InfoNCE over their cosine similarities at `temperature`, every other passage of the
 * batch a negative (`@tessera/rag/losses`' `infoNceLoss`). Passages are cut at the window; a
 * question longer than it is an error. Returns the loss of every step.
 */
export function trainBiEncoder(
  model: BiEncoder,
  tokenizer: Tokenizer,
  pairs: readonly QueryPair[],
  o: EncoderTraining & { temperature: number },
): Promise<History> {
  const pad = tokenizer.specialId('[PAD]');
  const queries = model.rows(
    tokenizer,
    pairs.map((p) => p.query),
    'query',
  );
  const passages = model.rows(
    tokenizer,
    pairs.map((p) => p.passage),
    'passage',
    true,
  );
  return train(
    'bi-encoder',
    model,
    o,
    (step) => batchOf(pairs.length, o.batchSize, o.seed, step),
    (batch) =>
      infoNceLoss(
        model.forward(
          padRows(
            batch.map((i) => queries[i]!),
            pad,
            model.device,
          ),
        ),
        model.forward(
          padRows(
            batch.map((i) => passages[i]!),
            pad,
            model.device,
          ),
        ),
        { temperature: o.temperature },
      ),
  );
}

/**
 * Trains a cross-encoder reranker: each step takes `batchSize` questions, scores each with its
 * passage and `hard + random` negatives drawn for that step ({@link NegativeSampling}), and
 * minimises the listwise softmax loss with the positive first (`listwiseLoss`). Returns the loss
 * of every step.
 *
 * @throws RangeError - no negatives asked for, an example with fewer than `hard` negatives, or
 * fewer than `random` passages besides an example's own
 */
export function trainCrossEncoder(
  model: CrossEncoder,
  tokenizer: Tokenizer,
  examples: readonly RerankExample[],
  o: EncoderTraining & NegativeSampling,
): Promise<History> {
  const where = 'trainCrossEncoder';
  const n = o.hard + o.random;
  if (
    !(
      Number.isInteger(o.hard) &&
      Number.isInteger(o.random) &&
      o.hard >= 0 &&
      o.random >= 0 &&
      n >= 1
    )
  )
    throw new RangeError(
      `${where}: hard and random must be integers ≥ 0 with a sum ≥ 1, got ${o.hard} and ${o.random}`,
    );
  const short = examples.findIndex((e) => e.negatives.length < o.hard);
  if (short >= 0)
    throw new RangeError(
      `${where}: example ${short} has ${examples[short]!.negatives.length} negatives, fewer than hard = ${o.hard}`,
    );
  const passages = [...new Set(o.passages)];
  if (o.random > 0 && passages.length < n + 1)
    throw new RangeError(
      `${where}: ${o.hard} hard and ${o.random} random negatives need at least ${n + 1} distinct passages, got ${passages.length}`,
    );
  const pad = tokenizer.specialId('[PAD]');
  const draw = (step: number) => {
    const rng = new T.Rng(o.seed * 2_000_003 + step);
    return batchOf(examples.length, o.batchSize, o.seed, step).map((i) => {
      const e = examples[i]!;
      const hard = drawDistinct(e.negatives, o.hard, [e.passage], rng);
      const random = drawDistinct(passages, o.random, [e.passage, ...hard], rng);
      return [e.passage, ...hard, ...random].map((p) => model.pairRow(tokenizer, e.query, p));
    });
  };
  return train('reranker', model, o, draw, (batch) => {
    const scores = model.forward(padRows(batch.flat(), pad, model.device));
    return listwiseLoss(T.reshape(scores, [batch.length, n + 1]));
  });
}
