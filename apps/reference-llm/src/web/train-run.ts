/**
 * A run of the training page, apart from the worker that hosts it: the tokenizer, the model and
 * its optimizer (pretrain's AdamW recipe), the token ids and where the run stands; started new or
 * restored from a checkpoint, and stepped one batch at a time. The page's worker drives it, and
 * the browser benchmark drives the same run in Node to compare.
 */
import type { BaseOptions, Optimizer } from '@tessera/optim';
import type { Device } from '@tessera/tensor-webgpu';
import { type Tokenizer, trainBpe } from '@tessera/tokenizer';
import { DecoderLM } from '@tessera/transformer';
import { batchAt } from '../batch.js';
import { languageModelStep } from '../lm-step.js';
import { buildOptimizer } from '../optimizer.js';
import type { Preset } from '../presets.js';
import {
  checkpointState,
  checkpointTokenizer,
  restoreCheckpoint,
  type TrainState,
} from './train-checkpoint.js';

/** Characters of the bundled text the page trains on: enough for the tiny preset, quick to tokenize. */
export const TEXT_CHARS = 200_000;

/** A run: its parts, and its state (`state.step` and `state.losses` grow with each step). */
export interface PageRun {
  preset: Preset;
  tokenizer: Tokenizer;
  /** The text's token ids, which batches are drawn from. */
  ids: Int32Array;
  model: DecoderLM;
  optimizer: Optimizer<BaseOptions>;
  state: TrainState;
}

function assemble(
  preset: Preset,
  tokenizer: Tokenizer,
  text: string,
  state: TrainState,
  device: Device,
): PageRun {
  const ids = Int32Array.from(tokenizer.encode(text, { disallowedSpecial: [] }));
  const model = new DecoderLM({ ...preset.model, vocabSize: tokenizer.vocabSize }, device);
  const { optimizer } = buildOptimizer('adamw', model, preset, state.steps);
  return { preset, tokenizer, ids, model, optimizer, state };
}

/** A new run of `steps` steps on `text`: trains the preset's byte-level BPE tokenizer first. */
export function newRun(preset: Preset, text: string, steps: number, device: Device): PageRun {
  const tokenizer = trainBpe([text], {
    vocabSize: preset.vocabSize,
    specialTokens: ['<|endoftext|>'],
  });
  return assemble(preset, tokenizer, text, { step: 0, steps, losses: [] }, device);
}

/**
 * The run saved in `bytes` (`encodeCheckpoint(run)`), on the same `text` and `preset`: its tokenizer, weights,
 * optimizer state (and so its learning-rate schedule's position), step and losses.
 *
 * @throws Error - not a checkpoint of the page, or one of another preset (its tensors named)
 */
export async function resumedRun(
  bytes: Uint8Array,
  preset: Preset,
  text: string,
  device: Device,
): Promise<PageRun> {
  const run = assemble(preset, checkpointTokenizer(bytes), text, checkpointState(bytes), device);
  await restoreCheckpoint(bytes, run.model, run.optimizer);
  return run;
}

/**
 * The run's next step (the batch of `batchAt` seeded by the step's number, so a resumed run
 * sees the batches an uninterrupted one would); returns its loss, also appended to the state.
 */
export async function trainStep(run: PageRun): Promise<number> {
  const { preset, ids, model, optimizer, state } = run;
  const step = state.step + 1;
  const batch = batchAt(ids, preset.batchSize, preset.seqLen, step, model.device);
  const loss = await languageModelStep(model, optimizer, batch);
  state.step = step;
  state.losses.push(loss);
  return loss;
}
