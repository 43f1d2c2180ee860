/**
 * Added tokens: texts matched whole, before pre-tokenization, as Hugging Face's
 * `AddedVocabulary` does (`find_matches` in `tokenizers/src/tokenizer/added_vocabulary.rs`).
 */

/** A token matched in the text before pre-tokenization (Hugging Face's `AddedToken`). */
export interface AddedToken {
  id: number;
  content: string;
  /**
   * Special tokens are matched only when the encode options allow them (tiktoken's policy);
   * others are always matched, as Hugging Face does.
   */
  special: boolean;
  /** Match only where no word character (`\w`, Unicode) touches either end. */
  singleWord: boolean;
  /** Absorb the whitespace before the token into its match. */
  lstrip: boolean;
  /** Absorb the whitespace after the token into its match. */
  rstrip: boolean;
  /** Match in the normalized text (true) rather than the raw input (false). */
  normalized: boolean;
}

/** Rust's Unicode `\w` and `\s` (the `regex` crate), which Hugging Face's flags test. */
const WORD = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]$/u;
const SPACE = /^\p{White_Space}$/u;

/** The character (code point) ending at `i` in `text`, or '' at the start. */
function charBefore(text: string, i: number): string {
  if (i === 0) return '';
  const low = text.charCodeAt(i - 1);
  const twoUnits = i >= 2 && low >= 0xdc00 && low <= 0xdfff && text.charCodeAt(i - 2) >= 0xd800;
  return text.slice(twoUnits ? i - 2 : i - 1, i);
}

/** The character (code point) starting at `i` in `text`, or '' at the end. */
function charAt(text: string, i: number): string {
  const code = text.codePointAt(i);
  return code === undefined ? '' : String.fromCodePoint(code);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Finds a set of added tokens in text, leftmost-longest (as Hugging Face's Aho-Corasick trie). */
export class AddedTokenMatcher {
  private readonly byContent: ReadonlyMap<string, AddedToken>;
  private readonly regex: RegExp | undefined;

  /** `normalize`: how the text searched was normalized, to apply to the tokens' contents too. */
  constructor(
    readonly tokens: readonly AddedToken[],
    normalize: (text: string) => string = (text) => text,
  ) {
    this.byContent = new Map(tokens.map((t) => [normalize(t.content), t]));
    // Longest first: at one position the alternation then takes the longest token.
    const contents = [...this.byContent.keys()].sort((a, b) => b.length - a.length);
    this.regex = contents.length
      ? new RegExp(contents.map(escapeRegExp).join('|'), 'gu')
      : undefined;
  }

  /**
   * Splits `text` into plain spans and added-token spans, in order. A match for which `skip`
   * returns true is passed over (its text stays plain), like a special token Hugging Face
   * leaves unsplit. With `lstrip` / `rstrip` a match takes the whitespace beside it; with
   * `singleWord` a match next to a word character is passed over.
   */
  split(
    text: string,
    skip: (token: AddedToken) => boolean,
    plain: (start: number, end: number) => void,
    added: (token: AddedToken, start: number, end: number) => void,
  ): void {
    let cursor = 0;
    if (this.regex && this.tokens.some((t) => !skip(t))) {
      for (const m of text.matchAll(this.regex)) {
        const token = this.byContent.get(m[0])!;
        if (skip(token)) continue;
        let start = m.index!;
        let stop = start + m[0].length;
        if (
          token.singleWord &&
          (WORD.test(charBefore(text, start)) || WORD.test(charAt(text, stop)))
        )
          continue;
        if (token.lstrip) {
          // Whitespace an earlier match took stays with it.
          while (start > cursor && SPACE.test(charBefore(text, start)))
            start -= charBefore(text, start).length;
        }
        if (token.rstrip) while (SPACE.test(charAt(text, stop))) stop += charAt(text, stop).length;
        if (cursor < start) plain(cursor, start);
        added(token, start, stop);
        cursor = stop;
      }
    }
    if (cursor < text.length) plain(cursor, text.length);
  }
}
