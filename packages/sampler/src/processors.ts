/**
 * Logits processors on the CPU: each rewrites one row of logits (a Float32Array over the
 * vocabulary) in place. `-Infinity` marks a token that can no longer be chosen.
 */

import { checkOptions } from '@tessera/tensor-webgpu';

/** What processors may look at besides the logits: the tokens of this row so far. */
export interface ProcessContext {
  /** Prompt and generated ids of this row (penalties look at them). */
  ids: readonly number[];
  /** Number of tokens generated so far (0 at the first step). */
  step: number;
}

export type LogitsProcessor = (logits: Float32Array, ctx: ProcessContext) => void;

/** Options of the standard processor chain (Hugging Face / OpenAI / llama.cpp semantics). */
export interface SamplingOptions {
  /** Divides logits; 0 means greedy (argmax). Default 1. */
  temperature?: number;
  /** Keep the k most likely tokens (ties at the k-th value are kept too). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (0 < p ≤ 1). */
  topP?: number;
  /** Keep tokens with probability ≥ minP × the top probability. */
  minP?: number;
  /** Locally typical sampling (Meister et al.): keep tokens closest to the expected surprisal, mass p. */
  typicalP?: number;
  /** Hugging Face repetition penalty: seen tokens' positive logits ÷ r, negative × r. */
  repetitionPenalty?: number;
  /** OpenAI presence penalty: − α for every seen token. */
  presencePenalty?: number;
  /** OpenAI frequency penalty: − α × count for every seen token. */
  frequencyPenalty?: number;
  /** Added to the logits of the given ids. */
  logitBias?: Readonly<Record<number, number>>;
  /** Ids that may never be chosen. */
  bannedTokens?: readonly number[];
  /** Forces a token at a step: return an id, or undefined for no constraint. */
  forcedToken?: (step: number) => number | undefined;
}

/** Every key of `SamplingOptions`, for `checkOptions` in the options that extend it. */
export const SAMPLING_OPTION_KEYS: Record<keyof SamplingOptions, true> = {
  temperature: true,
  topK: true,
  topP: true,
  minP: true,
  typicalP: true,
  repetitionPenalty: true,
  presencePenalty: true,
  frequencyPenalty: true,
  logitBias: true,
  bannedTokens: true,
  forcedToken: true,
};

function checkRange(
  name: string,
  value: number | undefined,
  ok: (v: number) => boolean,
  expected: string,
): void {
  if (value !== undefined && !(typeof value === 'number' && ok(value))) {
    throw new RangeError(`sampler: ${name} must be ${expected}, got ${value}`);
  }
}

/** The sampling options within a larger options object (generation, beam search, ...). */
export function samplingPart(o: SamplingOptions): SamplingOptions {
  return Object.fromEntries(Object.entries(o).filter(([key]) => key in SAMPLING_OPTION_KEYS));
}

/** Validates sampling options, naming the option, the value and what was expected. */
export function validateOptions(o: SamplingOptions): void {
  checkRange(
    'temperature',
    o.temperature,
    (v) => v >= 0 && Number.isFinite(v),
    'a finite number >= 0',
  );
  checkRange('topK', o.topK, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
  checkRange('topP', o.topP, (v) => v > 0 && v <= 1, 'in (0, 1]');
  checkRange('minP', o.minP, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  checkRange('typicalP', o.typicalP, (v) => v > 0 && v <= 1, 'in (0, 1]');
  checkRange(
    'repetitionPenalty',
    o.repetitionPenalty,
    (v) => v > 0 && Number.isFinite(v),
    'a finite number > 0',
  );
  checkRange('presencePenalty', o.presencePenalty, Number.isFinite, 'a finite number');
  checkRange('frequencyPenalty', o.frequencyPenalty, Number.isFinite, 'a finite number');
}

export const logitBias =
  (bias: Readonly<Record<number, number>>): LogitsProcessor =>
  (logits) => {
    for (const [id, b] of Object.entries(bias)) {
      const i = Number(id);
      if (i >= 0 && i < logits.length) logits[i]! += b;
    }
  };

export const banTokens =
  (ids: readonly number[]): LogitsProcessor =>
  (logits) => {
    for (const i of ids) if (i >= 0 && i < logits.length) logits[i] = Number.NEGATIVE_INFINITY;
  };

export const forceToken =
  (choose: (step: number) => number | undefined): LogitsProcessor =>
  (logits, ctx) => {
    const id = choose(ctx.step);
    if (id === undefined) return;
    if (!(id >= 0 && id < logits.length))
      throw new RangeError(
        `sampler: forced token ${id} is outside the vocabulary (${logits.length})`,
      );
    const keep = logits[id]!;
    logits.fill(Number.NEGATIVE_INFINITY);
    logits[id] = Number.isFinite(keep) ? keep : 0;
  };

export const repetitionPenalty =
  (r: number): LogitsProcessor =>
  (logits, ctx) => {
    for (const i of new Set(ctx.ids)) {
      const v = logits[i];
      if (v !== undefined) logits[i] = v > 0 ? v / r : v * r;
    }
  };

export const presenceFrequencyPenalty =
  (presence: number, frequency: number): LogitsProcessor =>
  (logits, ctx) => {
    const counts = new Map<number, number>();
    for (const i of ctx.ids) counts.set(i, (counts.get(i) ?? 0) + 1);
    for (const [i, c] of counts) if (i < logits.length) logits[i]! -= presence + frequency * c;
  };

export const temperature =
  (t: number): LogitsProcessor =>
  (logits) => {
    for (let i = 0; i < logits.length; i++) logits[i]! /= t;
  };

/** The k-th largest value of `values` (1-based), by quickselect: O(n) expected, no full sort. */
export function kthLargest(values: ArrayLike<number>, k: number): number {
  let items = Float64Array.from(values as ArrayLike<number>);
  let want = k;
  for (;;) {
    const pivot = items[(items.length * 0.5) | 0]!;
    let greater = 0;
    let equal = 0;
    for (const v of items) {
      if (v > pivot) greater++;
      else if (v === pivot) equal++;
    }
    if (want <= greater) items = items.filter((v) => v > pivot);
    else if (want <= greater + equal) return pivot;
    else {
      want -= greater + equal;
      items = items.filter((v) => v < pivot);
    }
  }
}

export const topK =
  (k: number): LogitsProcessor =>
  (logits) => {
    if (k >= logits.length) return;
    // Everything strictly below the k-th largest value goes (ties with it stay).
    const threshold = kthLargest(logits, k);
    for (let i = 0; i < logits.length; i++)
      if (logits[i]! < threshold) logits[i] = Number.NEGATIVE_INFINITY;
  };

/** Softmax of a row into float64 probabilities (−∞ → 0). */
export function softmaxRow(logits: Float32Array): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of logits) if (v > max) max = v;
  const p = new Float64Array(logits.length);
  if (max === Number.NEGATIVE_INFINITY) return p;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    p[i] = Math.exp(logits[i]! - max);
    sum += p[i]!;
  }
  for (let i = 0; i < p.length; i++) p[i]! /= sum;
  return p;
}

/**
 * The smallest probability that nucleus sampling keeps: the probability of the token at which the
 * descending cumulative mass first reaches `mass`. Found by a mass-weighted quickselect (O(n)
 * expected) instead of sorting the vocabulary.
 */
export function nucleusThreshold(p: ArrayLike<number>, mass: number): number {
  let items = Float64Array.from(p as ArrayLike<number>).filter((v) => v > 0);
  let needed = mass;
  for (;;) {
    if (items.length === 0) return 0;
    const pivot = items[(items.length * 0.5) | 0]!;
    let above = 0;
    let at = 0;
    for (const v of items) {
      if (v > pivot) above += v;
      else if (v === pivot) at += v;
    }
    if (above >= needed) items = items.filter((v) => v > pivot);
    else if (above + at >= needed) return pivot;
    else {
      needed -= above + at;
      items = items.filter((v) => v < pivot);
    }
  }
}

export const topP =
  (pMass: number): LogitsProcessor =>
  (logits) => {
    if (pMass >= 1) return;
    const p = softmaxRow(logits);
    // Keep the shortest descending prefix whose mass reaches p (tokens tied with its last one stay).
    const threshold = nucleusThreshold(p, pMass * (1 - 1e-12));
    for (let i = 0; i < logits.length; i++)
      if (p[i]! < threshold) logits[i] = Number.NEGATIVE_INFINITY;
  };

export const minP =
  (m: number): LogitsProcessor =>
  (logits) => {
    if (m <= 0) return;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of logits) if (v > max) max = v;
    // p_i ≥ m·p_max  ⇔  logit_i ≥ max + ln m
    const threshold = max + Math.log(m);
    for (let i = 0; i < logits.length; i++)
      if (logits[i]! < threshold) logits[i] = Number.NEGATIVE_INFINITY;
  };

export const typicalP =
  (mass: number): LogitsProcessor =>
  (logits) => {
    if (mass >= 1) return;
    const p = softmaxRow(logits);
    let entropy = 0;
    for (const v of p) if (v > 0) entropy -= v * Math.log(v);
    // Sort by |−log p − H| ascending; keep until the mass is reached.
    const idx = Array.from({ length: p.length }, (_, i) => i).filter((i) => p[i]! > 0);
    idx.sort(
      (a, b) =>
        Math.abs(-Math.log(p[a]!) - entropy) - Math.abs(-Math.log(p[b]!) - entropy) || a - b,
    );
    const keep = new Set<number>();
    let cum = 0;
    for (const i of idx) {
      keep.add(i);
      cum += p[i]!;
      if (cum >= mass) break;
    }
    for (let i = 0; i < logits.length; i++) if (!keep.has(i)) logits[i] = Number.NEGATIVE_INFINITY;
  };

/**
 * The standard chain, in this order (Hugging Face's, with OpenAI's penalties beside the
 * repetition penalty): logit bias → banned tokens → forced token → repetition penalty →
 * presence/frequency penalties → temperature → top-k → top-p → min-p → typical-p.
 * Temperature 0 is handled by the decoder (greedy), not here. Throws on unknown options and
 * values out of range, naming them.
 */
export function processorChain(o: SamplingOptions): LogitsProcessor[] {
  checkOptions('processorChain', o, Object.keys(SAMPLING_OPTION_KEYS));
  validateOptions(o);
  const chain: LogitsProcessor[] = [];
  if (o.logitBias) chain.push(logitBias(o.logitBias));
  if (o.bannedTokens?.length) chain.push(banTokens(o.bannedTokens));
  if (o.forcedToken) chain.push(forceToken(o.forcedToken));
  if (o.repetitionPenalty !== undefined && o.repetitionPenalty !== 1)
    chain.push(repetitionPenalty(o.repetitionPenalty));
  if (o.presencePenalty || o.frequencyPenalty)
    chain.push(presenceFrequencyPenalty(o.presencePenalty ?? 0, o.frequencyPenalty ?? 0));
  if (o.temperature !== undefined && o.temperature !== 1 && o.temperature > 0)
    chain.push(temperature(o.temperature));
  if (o.topK !== undefined) chain.push(topK(o.topK));
  if (o.topP !== undefined) chain.push(topP(o.topP));
  if (o.minP !== undefined) chain.push(minP(o.minP));
  if (o.typicalP !== undefined) chain.push(typicalP(o.typicalP));
  return chain;
}

/** Applies a chain to a copy of the logits and returns it. */
export function processLogits(
  logits: Float32Array,
  ctx: ProcessContext,
  chain: readonly LogitsProcessor[],
): Float32Array {
  const out = Float32Array.from(logits);
  for (const p of chain) p(out, ctx);
  return out;
}
