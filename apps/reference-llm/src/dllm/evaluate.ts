import { denoise, diffusionNll } from '@tessera/dllm';
import { bitsPerByteFromMeanNll } from '@tessera/eval';
import { generateBatch, tokenLogprobs } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { byteLength, DEFAULT_DATA, readText, splitText } from '../data.js';
import { evaluateCheckpoint } from '../evaluate.js';
import { loadCheckpoint } from '../load.js';
import { readCheckpoint } from '../run-folder.js';
import { type DiffusionModel, loadDiffusionCheckpoint } from './load.js';
import type { DiffusionTrainState } from './train.js';

/** Options of `evaluateDiffusion`. */
export interface DiffusionEvalOptions {
  /** A `pretrain` run folder of the same preset and data: the autoregressive baseline. */
  ar: string;
  /** The text whose validation split is scored; default the one the diffusion run trained on. */
  data?: string | URL;
  /** Independent passes of the bound over the split (one mask draw per window each). Default 4. */
  repeats?: number;
  /** Windows per forward pass. Default 32. */
  batch?: number;
  /** Spans of held-out text per gap length for fill-in-the-middle. Default 256. */
  spans?: number;
  /** Gap lengths in tokens. Default 1, 4, 16. */
  gapLengths?: readonly number[];
  device?: T.Device;
  /** Called with what is being measured, work done and its total (a progress bar). */
  onProgress?: (what: string, done: number, total: number) => void;
}

/** Accuracy of restoring held-out gaps. */
export interface FillScore {
  /** Share of the gap's tokens restored exactly. */
  tokenAccuracy: number;
  /** Share of gaps restored whole. */
  exactMatch: number;
}

/** How much of its context the diffusion model uses, beside the autoregressive model. */
export interface ContextUse {
  /** Held-out windows scored (the fill-in-the-middle windows). */
  windows: number;
  /** Mean cross-entropy (nats) of each window's middle token masked alone: every other token visible. */
  allVisible: number;
  /** The same token with every position of the window masked: the model's guess with no context. */
  noneVisible: number;
  /** The autoregressive model's cross-entropy of the same tokens given the tokens before them. */
  autoregressive: number;
}

/** What `dllm eval` measures. */
export interface DiffusionEvaluation {
  /** Validation tokens scored (all but the first of each window's). */
  tokens: number;
  bitsPerByte: {
    /** The diffusion model's ELBO bound: its mean over the repeats and the standard error of that mean. */
    diffusion: { bound: number; standardError: number; repeats: number[] };
    /** The autoregressive model's exact figure on the same windows (`reference-llm eval`). */
    autoregressive: number;
  };
  /** Per gap length: the diffusion model (prefix and suffix) against the autoregressive one (prefix only). */
  fill: {
    length: number;
    spans: number;
    /** `forwardPasses`: the model's passes per gap (the gaps of a batch share them). */
    diffusion: FillScore & { forwardPasses: number };
    autoregressive: FillScore;
  }[];
  /** The middle token of the fill windows scored with every other token visible, with none, and by the autoregressive model. */
  context: ContextUse;
}

/** The run's text: the data file its checkpoint records, or the bundled text. */
function runData(dir: string): string | URL {
  const path = readCheckpoint<DiffusionTrainState>(dir).state.data?.path;
  return path === undefined || path === 'bundled' ? DEFAULT_DATA : path;
}

function score(predicted: readonly number[][], truth: readonly number[][]): FillScore {
  let right = 0;
  let whole = 0;
  let total = 0;
  predicted.forEach((p, i) => {
    const t = truth[i]!;
    const hits = t.filter((id, j) => p[j] === id).length;
    right += hits;
    total += t.length;
    if (hits === t.length) whole++;
  });
  return { tokenAccuracy: right / total, exactMatch: whole / truth.length };
}

/**
 * The diffusion run against the autoregressive run of the same size and budget, on the
 * validation split of the same text and tokenizer:
 *
 * - **Bits per byte.** The split is cut into the windows `reference-llm eval` uses (the model's
 *   length, overlapping by one token), and each window's tokens after its first are scored given
 *   that first one. The diffusion model's figure is an upper bound: the negative ELBO of each
 *   window (`diffusionNll`, LLaDA's estimator, one mask draw per window per repeat), summed over
 *   the split, in bits per UTF-8 byte; its standard error is over the repeats. The
 *   autoregressive figure is exact (`evaluateCheckpoint`).
 * - **Fill-in-the-middle.** `spans` windows of held-out text at even intervals; in each, a gap of
 *   L tokens in the middle is hidden. The diffusion model fills it seeing the prefix and the
 *   suffix (greedy, one token per step, low-confidence remasking); the autoregressive model
 *   continues the prefix greedily (with its KV cache), as it cannot see the suffix. Reported:
 *   the share of gap tokens restored and of gaps restored whole.
 * - **Context use.** The middle token of the same windows: the diffusion model's cross-entropy
 *   with every other token visible and with none, beside the autoregressive model's from the
 *   tokens before it (`contextUse`).
 *
 * Throws when the two runs' tokenizers encode the text differently (not the same recipe) or
 * their windows differ.
 */
export async function evaluateDiffusion(
  dir: string,
  options: DiffusionEvalOptions,
): Promise<DiffusionEvaluation> {
  const { device, onProgress } = options;
  const data = options.data ?? runData(dir);
  const { val } = splitText(readText(data));
  const { model, tokenizer } = loadDiffusionCheckpoint(dir, device);
  const ar = loadCheckpoint(options.ar, device);
  try {
    const ids = tokenizer.encode(val, { disallowedSpecial: [] });
    const arIds = ar.tokenizer.encode(val, { disallowedSpecial: [] });
    if (arIds.length !== ids.length || arIds.some((id, i) => id !== ids[i]))
      throw new Error(
        `dllm eval: ${options.ar} encodes the validation text differently from ${dir}: compare runs trained with the same preset and data (the diffusion tokenizer is pretrain's plus the mask token)`,
      );
    const window = model.maxSequenceLength;
    if (ar.model.config.maxSeqLen !== window)
      throw new Error(
        `dllm eval: the runs' windows differ (${dir}: ${window}, ${options.ar}: ${ar.model.config.maxSeqLen}); compare runs of the same preset`,
      );
    const repeats = options.repeats ?? 4;
    const totals: number[] = [];
    for (let r = 0; r < repeats; r++)
      totals.push(
        await splitNll(model, ids, window, options.batch ?? 32, r, (done, total) =>
          onProgress?.(`bound ${r + 1}/${repeats}`, done, total),
        ),
      );
    const count = ids.length - 1;
    const bytes = byteLength(val);
    const bpb = totals.map((nats) => bitsPerByteFromMeanNll(nats / count, count, bytes));
    const mean = bpb.reduce((a, b) => a + b, 0) / repeats;
    const sd = Math.sqrt(bpb.reduce((s, b) => s + (b - mean) ** 2, 0) / Math.max(1, repeats - 1));
    const exact = await evaluateCheckpoint(options.ar, { data, seqLen: window, device });
    const fill = [];
    for (const length of options.gapLengths ?? [1, 4, 16])
      fill.push(
        await fillScores(model, ar.model, ids, window, length, options.spans ?? 256, onProgress),
      );
    const context = await contextUse(model, ar.model, ids, window, options.spans ?? 256);
    return {
      tokens: count,
      bitsPerByte: {
        diffusion: { bound: mean, standardError: sd / Math.sqrt(repeats), repeats: bpb },
        autoregressive: exact.bitsPerByte,
      },
      fill,
      context,
    };
  } finally {
    model.dispose();
    ar.model.dispose();
  }
}

/** The NLL bound of the split in nats: windows of `window` tokens overlapping by one, each scored after its first. */
async function splitNll(
  model: DiffusionModel,
  ids: readonly number[],
  window: number,
  batch: number,
  seed: number,
  onProgress: (done: number, total: number) => void,
): Promise<number> {
  const starts: number[] = [];
  for (let s = 0; s + 1 < ids.length; s += window - 1) starts.push(s);
  const full = starts.filter((s) => s + window <= ids.length);
  const groups: number[][] = [];
  for (let i = 0; i < full.length; i += batch) groups.push(full.slice(i, i + batch));
  for (const s of starts.filter((s) => s + window > ids.length)) groups.push([s]);
  let nats = 0;
  let done = 0;
  for (const [g, group] of groups.entries()) {
    const length = Math.min(window, ids.length - group[0]!);
    const rows = group.map((s) => ids.slice(s, s + length));
    const bound = await diffusionNll(model, rows, {
      from: 1,
      samples: 1,
      seed: seed * 100_003 + g,
    });
    nats += bound.reduce((a, b) => a + b, 0);
    done += group.length;
    onProgress(done, starts.length);
  }
  return nats;
}

/** The starts of `spans` held-out windows of `window` tokens at even intervals. */
function spanStarts(tokens: number, window: number, spans: number): number[] {
  const stride = Math.max(1, Math.floor((tokens - window) / spans));
  return Array.from({ length: spans }, (_, i) => i * stride).filter((s) => s + window <= tokens);
}

/** Cross-entropy (nats) of `targets[b]` under each row of `logits` [B, V], read back, summed. */
async function crossEntropySum(logits: T.Tensor, targets: readonly number[]): Promise<number> {
  const rows = T.noGrad(() => T.tidy(() => T.logSoftmax(logits, -1)));
  const values = await rows.data();
  rows.dispose();
  const vocab = logits.shape[1]!;
  return targets.reduce((sum, id, b) => sum - values[b * vocab + id]!, 0);
}

/**
 * The middle token of each fill window (`spanStarts`): the diffusion model's cross-entropy with
 * only that token masked and with the whole window masked, and the autoregressive model's given
 * the tokens before it. A model that uses its context scores far below its no-context figure.
 */
async function contextUse(
  model: DiffusionModel,
  ar: ReturnType<typeof loadCheckpoint>['model'],
  ids: readonly number[],
  window: number,
  spans: number,
): Promise<ContextUse> {
  const mid = Math.floor(window / 2);
  const starts = spanStarts(ids.length, window, spans);
  const sums = { allVisible: 0, noneVisible: 0, autoregressive: 0 };
  const batch = 64;
  for (let i = 0; i < starts.length; i += batch) {
    const rows = starts.slice(i, i + batch).map((s) => ids.slice(s, s + window));
    const targets = rows.map((r) => r[mid]!);
    const shape = [rows.length, window];
    const device = model.device;
    const middle = (canvas: number[][]) =>
      T.noGrad(() =>
        T.tidy(() => {
          const x = T.tensor(Int32Array.from(canvas.flat()), { shape, device });
          return T.reshape(T.slice(model.forward(x), 1, mid, mid + 1), [rows.length, -1]);
        }),
      );
    const one = middle(rows.map((r) => r.map((id, j) => (j === mid ? model.maskId : id))));
    sums.allVisible += await crossEntropySum(one, targets);
    one.dispose();
    const none = middle(rows.map((r) => r.map(() => model.maskId)));
    sums.noneVisible += await crossEntropySum(none, targets);
    none.dispose();
    const logprobs = T.noGrad(() =>
      T.tidy(() => {
        const x = T.tensor(Int32Array.from(rows.flat()), { shape, device });
        return T.sum(T.slice(tokenLogprobs(ar, x, { from: mid }), 1, mid, mid + 1));
      }),
    );
    sums.autoregressive -= await logprobs.item();
    logprobs.dispose();
  }
  const n = starts.length;
  return {
    windows: n,
    allVisible: sums.allVisible / n,
    noneVisible: sums.noneVisible / n,
    autoregressive: sums.autoregressive / n,
  };
}

/** Fill-in-the-middle on `spans` held-out windows with a gap of `length` tokens in the middle. */
async function fillScores(
  model: DiffusionModel,
  ar: ReturnType<typeof loadCheckpoint>['model'],
  ids: readonly number[],
  window: number,
  length: number,
  spans: number,
  onProgress: DiffusionEvalOptions['onProgress'],
): Promise<DiffusionEvaluation['fill'][number]> {
  const before = Math.floor((window - length) / 2);
  const starts = spanStarts(ids.length, window, spans);
  const part = (s: number, from: number, to: number) => ids.slice(s + from, s + to);
  const prefixes = starts.map((s) => part(s, 0, before));
  const gaps = starts.map((s) => part(s, before, before + length));
  const suffixes = starts.map((s) => part(s, before + length, window));
  const filled: number[][] = [];
  let forwardPasses = 0;
  const batch = 64;
  for (let i = 0; i < starts.length; i += batch) {
    const r = await denoise(
      model,
      { left: prefixes.slice(i, i + batch), length, right: suffixes.slice(i, i + batch) },
      { temperature: 0 },
    );
    filled.push(...r.tokens);
    forwardPasses = Math.max(forwardPasses, r.forwardPasses);
    onProgress?.(`fill ${length}, diffusion`, filled.length, starts.length);
  }
  const continued = await generateBatch(ar, prefixes, { maxNewTokens: length, temperature: 0 });
  onProgress?.(`fill ${length}, autoregressive`, starts.length, starts.length);
  return {
    length,
    spans: starts.length,
    diffusion: { ...score(filled, gaps), forwardPasses },
    autoregressive: score(continued, gaps),
  };
}
