/**
 * The part of `@tessera/tokenizer`'s `TokenizerLike` that rag uses, copied exactly so that this
 * package installs without the tokenizer: a `Tokenizer` (or anything with this `encode`) measures
 * chunk sizes and prompt budgets in tokens. `tokenizer-like.test.ts` fails if the copy drifts
 * from the owner's shape.
 */
export interface TokenizerLike {
  /** Text → token ids (special tokens as ordinary text unless the implementation allows them). */
  encode(text: string): number[];
}

/** Length of `text` in tokens when a tokenizer is given, else in UTF-16 code units. */
export function measure(text: string, tokenizer: TokenizerLike | undefined): number {
  return tokenizer ? tokenizer.encode(text).length : text.length;
}
