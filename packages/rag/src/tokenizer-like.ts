/**
 * The part of `@tessera/tokenizer`'s `TokenizerLike` that rag uses, copied exactly so that this
 * package installs without the tokenizer: a `Tokenizer` (or anything with this `encode`) measures
 * chunk sizes and prompt budgets in tokens. `tokenizer-like.test.ts` fails if the copy drifts
 * from the owner's shape. Documents may hold special-token text such as `<|endoftext|>`, which a
 * `Tokenizer` refuses by default; to count it as ordinary text, pass
 * `{ encode: (text) => tokenizer.encode(text, { disallowedSpecial: [] }) }`.
 */
export interface TokenizerLike {
  /**
   * Text → token ids. What happens to special-token text is the implementation's policy: `Tokenizer`
   * refuses it unless its options allow it (tiktoken's policy); call it with options to choose.
   */
  encode(text: string): number[];
}

/** Length of `text` in tokens when a tokenizer is given, else in UTF-16 code units. */
export function measure(text: string, tokenizer: TokenizerLike | undefined): number {
  return tokenizer ? tokenizer.encode(text).length : text.length;
}
