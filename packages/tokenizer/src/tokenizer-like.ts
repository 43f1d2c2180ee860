/**
 * The tokenizer surface other packages depend on, written once here. A package that must install
 * without `@tessera/tokenizer` (the sampler, for its `TextCodec`) keeps an exact copy of the part
 * it uses, with a type-level test that fails if the copy drifts from this one. `Tokenizer`
 * implements it.
 *
 * Keep the names and shapes stable: changing a member here breaks every copy.
 */
export interface TokenizerLike {
  /**
   * One more than the largest id (ordinary, special or added): the size of a model's embedding
   * and output layers.
   */
  readonly vocabSize: number;
  /** Special tokens by text, e.g. `{ '<|endoftext|>': 256 }` (added tokens that are not special are not listed). */
  readonly specialTokens: Readonly<Record<string, number>>;
  /**
   * Text → token ids. What happens to special-token text is the implementation's policy: `Tokenizer`
   * refuses it unless its options allow it (tiktoken's policy); call it with options to choose.
   */
  encode(text: string): number[];
  /** Token ids → text (invalid UTF-8 becomes U+FFFD); throws on an id outside the vocabulary. */
  decode(ids: Iterable<number>): string;
}

/**
 * One more than the largest of some ids (0 for none), counted: an array holds no index above
 * 2³² − 2, so a decoder array's length will not do for u32 ids.
 */
export function vocabSizeOf(lists: Iterable<Iterable<number>>): number {
  let max = -1;
  for (const ids of lists) for (const id of ids) if (id > max) max = id;
  return max + 1;
}
