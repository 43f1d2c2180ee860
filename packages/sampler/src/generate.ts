import { checkOptions } from '@tessera/tensor-webgpu';
import { DecodeBatch, GENERATE_OPTION_KEYS, type GenerateOptions } from './batch.js';
import type { CausalLM, TextCodec } from './model.js';

/** Options of `generate`: one sequence's options, and whether to use the model's KV cache. */
export interface GenerateStreamOptions extends GenerateOptions {
  /** Use the model's KV cache when it has one (default true). */
  useCache?: boolean;
}

/**
 * Streams generated token ids for one prompt: a `DecodeBatch` of one row — each step runs the
 * model on the new token only (with a KV cache), reads back the last position's logits, applies
 * the processor chain and picks the next token. Ends at `maxNewTokens`, a stop id, or a stop
 * sequence. The KV cache is freed when generation ends, and when the consumer stops early
 * (`break` out of `for await` runs the generator's `finally`). Throws on an empty or
 * out-of-vocabulary prompt and on unknown or out-of-range options, naming them.
 */
export async function* generate(
  model: CausalLM,
  prompt: readonly number[],
  options: GenerateStreamOptions = {},
): AsyncGenerator<number, void, undefined> {
  const { useCache, ...rowOptions } = options;
  checkOptions('generate', options, [...Object.keys(GENERATE_OPTION_KEYS), 'useCache']);
  const maxNew = rowOptions.maxNewTokens ?? 64;
  if (maxNew === 0) return;
  const batch = new DecodeBatch(model, {
    rows: 1,
    maxLength: prompt.length + (Number.isInteger(maxNew) ? maxNew : 0),
    useCache,
  });
  try {
    batch.add(prompt, rowOptions);
    for (;;) {
      const [next] = await batch.step();
      yield next!.token;
      if (next!.done) return;
    }
  } finally {
    batch.dispose();
  }
}

/**
 * Generates text: encodes the prompt, streams tokens (calling `onText` with each piece of new
 * text, only at UTF-8 boundaries), and returns the text cut before the first stop sequence.
 */
export async function generateText(
  model: CausalLM,
  codec: TextCodec & { streamDecoder?: () => { push(id: number): string; end(): string } },
  prompt: string,
  options: GenerateStreamOptions & { onText?: (piece: string) => void } = {},
): Promise<string> {
  const { onText, ...generateOptions } = options;
  const ids = codec.encode(prompt);
  const out: number[] = [];
  const stream = codec.streamDecoder?.();
  for await (const id of generate(model, ids, { ...generateOptions, codec })) {
    out.push(id);
    if (onText) onText(stream ? stream.push(id) : '');
  }
  if (stream && onText) onText(stream.end());
  let text = codec.decode(out);
  for (const s of options.stopSequences ?? []) {
    const at = text.indexOf(s);
    if (at >= 0) text = text.slice(0, at);
  }
  return text;
}
