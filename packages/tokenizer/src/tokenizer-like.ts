/**
 * The tokenizer surface other packages depend on, written once here. Packages that must install
 * without `@tessera/tokenizer` (sampler, eval, rag) keep an exact copy of the part they use, with a
 * type-level test that fails if the copy drifts from this one. `Tokenizer` implements it.
 */
export interface TokenizerLike {
  /** One more than the largest id (ordinary or special). */
  readonly vocabSize: number;
  /** Special tokens by text, e.g. `{ '<|endoftext|>': 256 }`. */
  readonly specialTokens: Readonly<Record<string, number>>;
  /** Text → token ids (special tokens as ordinary text unless the implementation allows them). */
  encode(text: string): number[];
  /** Token ids → text (invalid UTF-8 becomes U+FFFD). */
  decode(ids: Iterable<number>): string;
}
