import { bitsPerByteFromMeanNll } from '@tessera/eval';
import { tokenLogprobs } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import type { Tokenizer } from '@tessera/tokenizer';
import type { DecoderLM } from '@tessera/transformer';
import {
  byteLength,
  checkSplitSize,
  DEFAULT_DATA,
  displayPath,
  readText,
  splitText,
} from './data.js';
import { nonFiniteLogitsError } from './finite.js';
import { loadCheckpoint } from './load.js';

/** Options of `evaluateCheckpoint` and `evaluateModel`. */
export interface ValidationOptions {
  data?: string | URL;
  seqLen?: number;
  /** Windows per forward pass (default 8). */
  batch?: number;
  device?: T.Device;
  /** Called after each batch of windows with windows done and the total (a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

/** Validation loss figures: tokens scored, mean negative log-likelihood, perplexity, bits per byte. */
export interface ValidationResult {
  tokens: number;
  meanNll: number;
  perplexity: number;
  bitsPerByte: number;
}

/**
 * Validation perplexity and bits per byte of a checkpoint: `evaluateModel` on the model and
 * tokenizer saved in `dir`, freed afterwards.
 *
 * @throws Error - as `evaluateModel`, naming `dir`
 */
export async function evaluateCheckpoint(
  dir: string,
  options: ValidationOptions = {},
): Promise<ValidationResult> {
  const { model, tokenizer } = loadCheckpoint(dir, options.device);
  try {
    return await evaluateModel(model, tokenizer, dir, options);
  } finally {
    model.dispose();
  }
}

/**
 * Validation perplexity and bits per byte of a model (in eval mode; not freed; `dir` names it in
 * errors). The validation split is cut into windows of `seqLen` tokens that overlap by one (each
 * window's first token is context only), so every token but the first is scored exactly once; `batch` windows run in one forward pass,
 * and their per-token log-probabilities are summed on the device (`tokenLogprobs`): one number
 * per batch is read back.
 *
 * @throws Error - the validation split is shorter than two tokens (naming the file), or the
 *   model's logits are not finite (`nonFiniteLogitsError`, naming `dir`)
 */
export async function evaluateModel(
  model: DecoderLM,
  tokenizer: Tokenizer,
  dir: string,
  options: Omit<ValidationOptions, 'device'> = {},
): Promise<ValidationResult> {
  const data = options.data ?? DEFAULT_DATA;
  const { val } = splitText(readText(data));
  const ids = Int32Array.from(tokenizer.encode(val, { disallowedSpecial: [] }));
  checkSplitSize(
    `eval --data ${displayPath(data)}`,
    'validation',
    { bytes: byteLength(val), tokens: ids.length },
    1,
  );
  const seqLen = Math.min(options.seqLen ?? model.config.maxSeqLen, model.config.maxSeqLen);
  if (seqLen < 2) throw new RangeError(`evaluate: seqLen must be at least 2, got ${seqLen}`);
  const batch = options.batch ?? 8;
  // Window starts: each window ends where the next begins.
  const starts: number[] = [];
  for (let s = 0; s + 1 < ids.length; s += seqLen - 1) starts.push(s);
  let logLikelihood = 0;
  // Full windows in batches; the last, shorter window alone.
  const full = starts.filter((s) => s + seqLen <= ids.length);
  const groups: number[][] = [];
  for (let i = 0; i < full.length; i += batch) groups.push(full.slice(i, i + batch));
  const tail = starts.filter((s) => s + seqLen > ids.length);
  for (const s of tail) groups.push([s]);
  let done = 0;
  for (const group of groups) {
    const length = Math.min(seqLen, ids.length - group[0]!);
    const rows = Int32Array.from(group.flatMap((s) => Array.from(ids.subarray(s, s + length))));
    const x = T.tensor(rows, { shape: [group.length, length], device: model.device });
    const total = T.noGrad(() => T.tidy(() => T.sum(tokenLogprobs(model, x))));
    const sum = await total.item();
    x.dispose();
    total.dispose();
    if (!Number.isFinite(sum))
      throw nonFiniteLogitsError(
        dir,
        `the log-likelihood of the validation window at token ${group[0]} is ${sum}`,
      );
    logLikelihood += sum;
    done += group.length;
    options.onProgress?.(done, starts.length);
  }
  const count = ids.length - 1;
  const meanNll = -logLikelihood / count;
  return {
    tokens: count,
    meanNll,
    perplexity: Math.exp(meanNll),
    bitsPerByte: bitsPerByteFromMeanNll(meanNll, count, byteLength(val)),
  };
}
