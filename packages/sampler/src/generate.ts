import { type Device, noGrad, Rng, slice, type Tensor, tensor, tidy } from '@tessera/tensor-webgpu';
import type { CausalLM, TextCodec } from './model.js';
import {
  type LogitsProcessor,
  processLogits,
  processorChain,
  type SamplingOptions,
  softmaxRow,
} from './processors.js';
import { argmaxRow, sampleIndex } from './rng.js';

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate at most. Default 64. */
  maxNewTokens?: number;
  /** Generation ends after any of these ids (it is emitted). */
  stopTokenIds?: readonly number[];
  /** Generation ends once the generated text contains one of these (needs `codec`). */
  stopSequences?: readonly string[];
  /** Decodes ids for stop sequences. */
  codec?: TextCodec;
  /** Seed of the sampling RNG (reproducible per seed). Default 0. */
  seed?: number;
  /** Use the model's KV cache when it has one (default true). */
  useCache?: boolean;
  /** Extra processors, applied after the standard chain. */
  processors?: readonly LogitsProcessor[];
}

/** Last-position logits of each row as Float32Arrays (reads [batch, vocab] back, nothing more). */
export async function lastLogits(logits: Tensor): Promise<Float32Array[]> {
  const [b, t, v] = logits.shape as [number, number, number];
  const last = noGrad(() => slice(logits, 1, t - 1, t).contiguous());
  const data = (await last.data()) as Float32Array;
  last.dispose();
  return Array.from({ length: b }, (_, i) => data.slice(i * v, (i + 1) * v));
}

/** One decoding decision from a row of logits: greedy at temperature 0, else a sample. */
export function chooseToken(
  logits: Float32Array,
  ids: readonly number[],
  step: number,
  chain: readonly LogitsProcessor[],
  o: GenerateOptions,
  rng: Rng,
): number {
  const processed = processLogits(logits, { ids, step }, chain);
  if (o.temperature === 0) return argmaxRow(processed);
  return sampleIndex(softmaxRow(processed), rng);
}

function checkPrompt(prompt: readonly number[], vocab: number): void {
  if (prompt.length === 0)
    throw new RangeError('generate: the prompt is empty (give at least one token, e.g. a BOS id)');
  for (const id of prompt) {
    if (!Number.isInteger(id) || id < 0 || id >= vocab)
      throw new RangeError(`generate: prompt id ${id} is outside the vocabulary (0..${vocab - 1})`);
  }
}

/**
 * Streams generated token ids for one prompt: each step runs the model (on the new token only,
 * with a KV cache), reads back the last position's logits, applies the processor chain and picks
 * the next token. Ends at `maxNewTokens`, a stop id, or a stop sequence.
 */
export async function* generate(
  model: CausalLM,
  prompt: readonly number[],
  options: GenerateOptions = {},
): AsyncGenerator<number, void, undefined> {
  checkPrompt(prompt, model.vocabSize);
  const chain = [...processorChain(options), ...(options.processors ?? [])];
  const maxNew = options.maxNewTokens ?? 64;
  if (!Number.isInteger(maxNew) || maxNew < 0)
    throw new RangeError(`generate: maxNewTokens must be a non-negative integer, got ${maxNew}`);
  const rng = new Rng(options.seed ?? 0);
  const stops = new Set(options.stopTokenIds ?? []);
  const stopSequences = options.stopSequences ?? [];
  if (stopSequences.length && !options.codec)
    throw new Error('generate: stopSequences need a codec (a tokenizer) to decode the text');
  const useCache = (options.useCache ?? true) && typeof model.createCache === 'function';
  const limit = model.maxSequenceLength ?? Number.POSITIVE_INFINITY;
  const newCache = () =>
    useCache ? model.createCache!(1, Math.min(prompt.length + maxNew, limit)) : undefined;
  let cache = newCache();
  let cached = 0; // positions in the cache
  const ids = [...prompt];
  const device = deviceOf(model);
  let pending: readonly number[] = prompt.slice(-limit);
  for (let step = 0; step < maxNew; step++) {
    // Past the model's context, keep a window: without a cache, the last `limit` ids; with one,
    // a fresh cache refilled with the last half window.
    if (useCache && cached + pending.length > limit) {
      cache = newCache();
      cached = 0;
      pending = ids.slice(-Math.max(1, Math.floor(limit / 2)));
    }
    const window = useCache ? pending : ids.slice(-limit);
    const input = tensor(Int32Array.from(window), { shape: [1, window.length], device });
    cached += window.length;
    const logits = noGrad(() => tidy(() => model.forward(input, cache)));
    input.dispose();
    const [row] = await lastLogits(logits);
    logits.dispose();
    const next = chooseToken(row!, ids, step, chain, options, rng);
    ids.push(next);
    pending = [next];
    yield next;
    if (stops.has(next)) return;
    if (stopSequences.length) {
      const text = options.codec!.decode(ids.slice(prompt.length));
      if (stopSequences.some((s) => text.includes(s))) return;
    }
  }
}

/** The device a model's parameters live on, when it says (else the default device). */
function deviceOf(model: CausalLM): Device | undefined {
  return (model as { device?: Device }).device;
}

/**
 * Generates text: encodes the prompt, streams tokens (calling `onText` with each piece of new
 * text, only at UTF-8 boundaries), and returns the text cut before the first stop sequence.
 */
export async function generateText(
  model: CausalLM,
  codec: TextCodec & { streamDecoder?: () => { push(id: number): string; end(): string } },
  prompt: string,
  options: GenerateOptions & { onText?: (piece: string) => void } = {},
): Promise<string> {
  const ids = Array.from(codec.encode(prompt));
  const out: number[] = [];
  const stream = codec.streamDecoder?.();
  for await (const id of generate(model, ids, { ...options, codec })) {
    out.push(id);
    if (options.onText) options.onText(stream ? stream.push(id) : '');
  }
  if (stream && options.onText) options.onText(stream.end());
  let text = codec.decode(out);
  for (const s of options.stopSequences ?? []) {
    const at = text.indexOf(s);
    if (at >= 0) text = text.slice(0, at);
  }
  return text;
}
