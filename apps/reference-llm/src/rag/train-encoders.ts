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
 * passage and its hard negatives (all examples have as many), and minimises the listwise softmax
 * loss with the positive first (`listwiseLoss`). Returns the loss of every step.
 *
 * @throws RangeError - examples with different numbers of negatives, or none
 */
export function trainCrossEncoder(
  model: CrossEncoder,
  tokenizer: Tokenizer,
  examples: readonly RerankExample[],
  o: EncoderTraining,
): Promise<History> {
  const n = examples[0]?.negatives.length ?? 0;
  const bad = examples.findIndex((e) => e.negatives.length !== n);
  if (n === 0 || bad >= 0)
    throw new RangeError(
      `trainCrossEncoder: every example needs the same number (≥ 1) of negatives; example 0 has ${n}${bad >= 0 ? `, example ${bad} ${examples[bad]!.negatives.length}` : ''}`,
    );
  const pad = tokenizer.specialId('[PAD]');
  const rows = examples.map((e) =>
    [e.passage, ...e.negatives].map((p) => model.pairRow(tokenizer, e.query, p)),
  );
  return train(
    'reranker',
    model,
    o,
    (step) => batchOf(examples.length, o.batchSize, o.seed, step),
    (batch) => {
      const scores = model.forward(
        padRows(
          batch.flatMap((i) => rows[i]!),
          pad,
          model.device,
        ),
      );
      return listwiseLoss(T.reshape(scores, [batch.length, n + 1]));
    },
  );
}
