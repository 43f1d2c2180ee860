import { checkOptions, Rng } from '@tessera/tensor-webgpu';
import type { CausalLM, ModelCache, TextCodec } from './model.js';
import {
  kthLargest,
  type LogitsProcessor,
  processLogits,
  processorChain,
  SAMPLING_OPTION_KEYS,
  type SamplingOptions,
  samplingPart,
  softmaxRow,
} from './processors.js';
import { argmaxRow, checkFiniteLogits, sampleIndex } from './rng.js';
import { DecodeRows, type DecodeRowsOptions } from './rows.js';

/** How one sequence is generated: sampling, length, stops, seed. */
export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate at most. Default 64. */
  maxNewTokens?: number;
  /** Generation ends after any of these ids (it is emitted). */
  stopTokenIds?: readonly number[];
  /** Generation ends once the generated text contains one of these (needs `codec`). */
  stopSequences?: readonly string[];
  /** Decodes ids for stop sequences. */
  codec?: TextCodec;
  /** Seed of this sequence's sampling RNG (reproducible per seed, alone or in a batch). Default 0. */
  seed?: number;
  /** Extra processors, applied after the standard chain. */
  processors?: readonly LogitsProcessor[];
  /**
   * Applied before the standard chain: sets the logits of tokens that may not come next to −∞
   * (grammar-constrained decoding, as vLLM and llama.cpp apply a grammar's token mask before
   * temperature and top-k/top-p, so those never remove every allowed token).
   */
  mask?: LogitsProcessor;
  /**
   * Report log-probabilities with each token: the chosen token's, and the `logprobs` most likely
   * tokens' (0 for the chosen token's only; at most 20, as OpenAI allows). They are of the model's
   * own distribution, before any processor (vLLM's default, `raw_logprobs`).
   */
  logprobs?: number;
}

/** Every key of `GenerateOptions`, for `checkOptions`. */
export const GENERATE_OPTION_KEYS: Record<keyof GenerateOptions, true> = {
  ...SAMPLING_OPTION_KEYS,
  maxNewTokens: true,
  stopTokenIds: true,
  stopSequences: true,
  codec: true,
  seed: true,
  processors: true,
  mask: true,
  logprobs: true,
};

/** Options of `DecodeBatch`: the rows, and how much of a prompt one step runs. */
export interface DecodeBatchOptions extends DecodeRowsOptions {
  /**
   * Prompt tokens a row runs per step at most (chunked prefill, as in vLLM and Sarathi-Serve): a
   * long prompt takes several steps, during which the other rows keep decoding, instead of one
   * long forward pass that stalls them. Default: the whole prompt in one step. The chunks depend
   * on the prompt only, so a row's tokens do not depend on what else is in the batch.
   */
  prefillChunk?: number;
}

/** A token's log-probability, and its alternatives'. */
export interface TokenLogprob {
  token: number;
  /** Natural log of the token's probability under the model (before any processor). */
  logprob: number;
}

/** A token that `DecodeBatch.step` chose for one row. */
export interface StepToken {
  row: number;
  token: number;
  /** The row finished with this token (a stop id, a stop sequence, or maxNewTokens) and left. */
  done: boolean;
  /** The token's log-probability, when the row asked for `logprobs`. */
  logprob?: number;
  /** The `logprobs` most likely tokens, most likely first (ties: lower id first), when asked. */
  topLogprobs?: TokenLogprob[];
}

/** One row's generation state. */
interface RowState {
  readonly options: GenerateOptions;
  readonly chain: readonly LogitsProcessor[];
  readonly rng: Rng;
  readonly stops: ReadonlySet<number>;
  readonly maxNew: number;
  /** Tokens to feed at the next step: the prompt, then the last token chosen. */
  pending: number[];
  readonly generated: number[];
}

/** Checks a prompt against the vocabulary, naming the offending id. */
export function checkPrompt(where: string, prompt: readonly number[], vocab: number): void {
  if (prompt.length === 0)
    throw new RangeError(`${where}: the prompt is empty (give at least one token, e.g. a BOS id)`);
  for (const id of prompt) {
    if (!Number.isInteger(id) || id < 0 || id >= vocab)
      throw new RangeError(`${where}: prompt id ${id} is outside the vocabulary (0..${vocab - 1})`);
  }
}

/** One decoding decision from a row of logits: greedy at temperature 0, else a sample. */
function chooseToken(logits: Float32Array, ids: readonly number[], s: RowState): number {
  checkFiniteLogits(logits);
  const processed = processLogits(logits, { ids, step: s.generated.length }, s.chain);
  if (s.options.temperature === 0) return argmaxRow(processed);
  return sampleIndex(softmaxRow(processed), s.rng);
}

/** Log-softmax of `logits` at `token`, and the `top` most likely tokens (float64 on the host). */
export function logprobsOf(
  logits: Float32Array,
  token: number,
  top: number,
): { logprob: number; topLogprobs: TokenLogprob[] } {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const logZ = max + Math.log(sum);
  const best: TokenLogprob[] = [];
  if (top > 0) {
    const threshold = kthLargest(logits, Math.min(top, logits.length));
    for (let i = 0; i < logits.length; i++)
      if (logits[i]! >= threshold) best.push({ token: i, logprob: logits[i]! - logZ });
    best.sort((a, b) => b.logprob - a.logprob || a.token - b.token);
    best.length = Math.min(best.length, top);
  }
  return { logprob: logits[token]! - logZ, topLogprobs: best };
}

/**
 * Continuous batching (as vLLM and TGI serve): up to `rows` sequences decode together, each at its
 * own KV-cache position with its own options and seed. A server's scheduler drives it: `add` a
 * prompt to a free row, `step` every row once (a row's first step runs its prompt), `remove` a
 * row it abandons; rows that finish leave by themselves and their row is free again. A row
 * produces the same tokens as it would decoding alone.
 */
export class DecodeBatch {
  private readonly decoder: DecodeRows;
  private readonly live = new Map<number, RowState>();
  private readonly chunk: number;
  private stepping = false;

  /** Throws on unknown options and a `prefillChunk` that is not a positive integer. */
  constructor(
    readonly model: CausalLM,
    options: DecodeBatchOptions,
  ) {
    checkOptions('DecodeBatch', options, ['rows', 'maxLength', 'useCache', 'prefillChunk']);
    const { prefillChunk, ...rows } = options;
    if (prefillChunk !== undefined && !(Number.isInteger(prefillChunk) && prefillChunk >= 1))
      throw new RangeError(
        `DecodeBatch: prefillChunk must be an integer >= 1, got ${prefillChunk}`,
      );
    this.chunk = prefillChunk ?? Number.POSITIVE_INFINITY;
    this.decoder = new DecodeRows(model, rows);
  }

  /** The model's KV cache (its `lengths` are each row's positions in use), when it has one. */
  get cache(): ModelCache | undefined {
    return this.decoder.cache;
  }

  /** Rows decoding now, in row order. */
  get active(): number[] {
    return [...this.live.keys()].sort((a, b) => a - b);
  }

  /** Rows free for a new prompt. */
  get free(): number[] {
    return Array.from({ length: this.decoder.rows }, (_, i) => i).filter((r) => !this.live.has(r));
  }

  /**
   * Puts `prompt` in the first free row and returns the row; its prompt runs at the next `step`.
   * Throws when every row is busy, on an empty or out-of-vocabulary prompt, and on unknown or
   * out-of-range options, naming them.
   */
  add(prompt: readonly number[], options: GenerateOptions = {}): number {
    checkOptions('generate', options, Object.keys(GENERATE_OPTION_KEYS));
    checkPrompt('generate', prompt, this.model.vocabSize);
    const maxNew = options.maxNewTokens ?? 64;
    if (!Number.isInteger(maxNew) || maxNew < 1)
      throw new RangeError(`generate: maxNewTokens must be an integer >= 1, got ${maxNew}`);
    if (options.stopSequences?.length && !options.codec)
      throw new Error('generate: stopSequences need a codec (a tokenizer) to decode the text');
    const top = options.logprobs;
    if (top !== undefined && !(Number.isInteger(top) && top >= 0 && top <= 20))
      throw new RangeError(`generate: logprobs must be an integer in 0..20, got ${top}`);
    if (options.mask !== undefined && typeof options.mask !== 'function')
      throw new TypeError('generate: mask must be a logits processor (a function)');
    const row = this.free[0];
    if (row === undefined)
      throw new Error(
        `DecodeBatch.add: all ${this.decoder.rows} rows are busy; wait for a row to finish or remove one`,
      );
    this.live.set(row, {
      options,
      chain: [
        ...(options.mask ? [options.mask] : []),
        ...processorChain(samplingPart(options)),
        ...(options.processors ?? []),
      ],
      rng: new Rng(options.seed ?? 0),
      stops: new Set(options.stopTokenIds ?? []),
      maxNew,
      pending: [...prompt],
      generated: [],
    });
    return row;
  }

  /** Tokens generated so far in `row` (the prompt excluded). */
  generated(row: number): readonly number[] {
    const state = this.live.get(row);
    if (!state) throw new RangeError(`DecodeBatch: row ${row} is not decoding`);
    return state.generated;
  }

  /**
   * One step of every active row: one forward pass per group of rows feeding the same number of
   * tokens (all decoding rows together; a new row runs its prompt, or its next `prefillChunk` of
   * it), then each row's processors and sampler on its logits. Returns a token for every row
   * that got one (a row still running its prompt gets none). Finished rows leave the batch.
   */
  async step(): Promise<StepToken[]> {
    if (this.stepping) throw new Error('DecodeBatch.step: the previous step has not finished');
    const rows = this.active;
    const states = rows.map((r) => this.live.get(r)!);
    const feeds = states.map((s) => s.pending.slice(0, this.chunk));
    this.stepping = true;
    let logits: Float32Array[][];
    try {
      logits = await this.decoder.extend(rows, feeds);
    } finally {
      this.stepping = false;
    }
    const out: StepToken[] = [];
    rows.forEach((row, i) => {
      const s = states[i]!;
      if (this.live.get(row) !== s) return; // removed while the step ran
      if (s.pending.length > feeds[i]!.length) {
        s.pending = s.pending.slice(feeds[i]!.length); // the prompt's next chunk runs next step
        return;
      }
      const rowLogits = logits[i]![0]!;
      const token = chooseToken(rowLogits, this.decoder.ids(row), s);
      s.generated.push(token);
      s.pending = [token];
      const done = s.stops.has(token) || s.generated.length >= s.maxNew || this.hitStopSequence(s);
      if (done) this.remove(row);
      const top = s.options.logprobs;
      out.push(
        top === undefined
          ? { row, token, done }
          : { row, token, done, ...logprobsOf(rowLogits, token, top) },
      );
    });
    return out;
  }

  private hitStopSequence(s: RowState): boolean {
    const sequences = s.options.stopSequences ?? [];
    if (!sequences.length) return false;
    const text = s.options.codec!.decode(s.generated);
    return sequences.some((q) => text.includes(q));
  }

  /** Ends `row`'s generation (finished or abandoned) and frees its row and cache positions. */
  remove(row: number): void {
    if (!this.live.delete(row))
      throw new RangeError(`DecodeBatch.remove: row ${row} is not decoding`);
    this.decoder.reset(row);
  }

  /** Frees the KV cache. */
  dispose(): void {
    this.decoder.dispose();
  }
}

/**
 * Generates for several prompts at once and returns each one's tokens (prompt excluded), in
 * order. Up to `rows` prompts decode together (default all); when one finishes, the next waiting
 * prompt takes its row. `options` is one object for every prompt or one per prompt (e.g. a seed
 * each). Each prompt gets the tokens it would get alone.
 */
export async function generateBatch(
  model: CausalLM,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions | readonly GenerateOptions[] = {},
  batch: Partial<DecodeRowsOptions> = {},
): Promise<number[][]> {
  checkOptions('generateBatch', batch, ['rows', 'maxLength', 'useCache']);
  const each = (i: number) => (Array.isArray(options) ? options[i] : options) as GenerateOptions;
  if (Array.isArray(options) && options.length !== prompts.length)
    throw new RangeError(
      `generateBatch: ${options.length} options for ${prompts.length} prompts (give one, or one per prompt)`,
    );
  const results = prompts.map(() => [] as number[]);
  const waiting = prompts.map((_, i) => i).filter((i) => (each(i).maxNewTokens ?? 64) !== 0);
  if (waiting.length === 0) return results;
  const longest = Math.max(
    ...waiting.map((i) => prompts[i]!.length + (each(i).maxNewTokens ?? 64)),
  );
  const decode = new DecodeBatch(model, {
    rows: batch.rows ?? waiting.length,
    maxLength: batch.maxLength ?? longest,
    useCache: batch.useCache,
  });
  const owner = new Map<number, number>(); // row → prompt index
  try {
    while (waiting.length || owner.size) {
      while (waiting.length && decode.free.length) {
        const i = waiting.shift()!;
        owner.set(decode.add(prompts[i]!, each(i)), i);
      }
      for (const { row, token, done } of await decode.step()) {
        results[owner.get(row)!]!.push(token);
        if (done) owner.delete(row);
      }
    }
  } finally {
    decode.dispose();
  }
  return results;
}
