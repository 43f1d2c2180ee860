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
  private readonly byContent = new Map<string, AddedToken>();
  private readonly regex: RegExp | undefined;

  /**
   * `normalize`: how the text searched was normalized, to apply to the tokens' contents too.
   * Special tokens are searched first, then the others, each in their order (Hugging Face's
   * trie order): of two tokens with the same (normalized) content, the first is found.
   */
  constructor(
    readonly tokens: readonly AddedToken[],
    normalize: (text: string) => string = (text) => text,
  ) {
    for (const t of [...tokens.filter((t) => t.special), ...tokens.filter((t) => !t.special)]) {
      const content = normalize(t.content);
      if (!this.byContent.has(content)) this.byContent.set(content, t);
    }
    // Longest first: at one position the alternation then takes the longest token.
    const contents = [...this.byContent.keys()].sort((a, b) => b.length - a.length);
    this.regex = contents.length
      ? new RegExp(contents.map(escapeRegExp).join('|'), 'gu')
      : undefined;
  }

  /**
   * Splits `text` into plain spans and added-token spans, in order, as Hugging Face's
   * `find_matches` does. A match for which `skip` returns true is passed over (its text stays
   * plain), like a special token Hugging Face leaves unsplit. With `singleWord` a match next to
   * a word character is passed over. With `lstrip` / `rstrip` a match takes the whitespace
   * beside it, except whitespace an earlier match took.
   *
   * The search goes on after each match's own text, not after the whitespace it took, so a token
   * can be found inside whitespace an `rstrip` token took: with `lstrip` it then keeps only what
   * lies past that whitespace (nothing: it is dropped), without it both tokens cover the
   * overlap and the plain text resumes where the later one ends — Hugging Face's output.
   *
   * @throws Error - an `lstrip` token found inside whitespace an earlier `rstrip` token took,
   *   with more of that whitespace after it: Hugging Face `tokenizers` panics there ("AddedVocabulary
   *   bad split"), so there is no output to match
   */
  split(
    text: string,
    skip: (token: AddedToken) => boolean,
    plain: (start: number, end: number) => void,
    added: (token: AddedToken, start: number, end: number) => void,
  ): void {
    let cursor = 0;
    // The last run of whitespace an rstrip scanned, [from, to]: scanning from inside it ends at
    // `to`, so a run is scanned once however many tokens are found in it.
    let runFrom = -1;
    let runTo = -1;
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
          start = Math.max(start, cursor);
        }
        if (token.rstrip) {
          if (stop < runFrom || stop > runTo) {
            runFrom = stop;
            while (SPACE.test(charAt(text, stop))) stop += charAt(text, stop).length;
            runTo = stop;
          } else stop = runTo;
        }
        if (start > stop)
          throw new Error(
            `added token ${JSON.stringify(token.content)} (lstrip) lies inside the whitespace an earlier rstrip token took, in ${JSON.stringify(text)}: Hugging Face tokenizers fails on this input ("AddedVocabulary bad split"), so Tessera refuses it too`,
          );
        if (cursor < start) plain(cursor, start);
        if (start < stop) added(token, start, stop);
        cursor = stop;
      }
    }
    if (cursor < text.length) plain(cursor, text.length);
  }
}

/**
 * Added tokens found as Hugging Face's `AddedVocabulary::extract_and_normalize` finds them:
 * those with `normalized: false` in the raw text first; then each plain span between them is
 * normalized and searched for those with `normalized: true` (their contents normalized too).
 */
export class AddedVocabulary {
  private readonly raw: AddedTokenMatcher;
  private readonly normalized: AddedTokenMatcher;

  /** `normalize`: the tokenizer's normalizer (none: the identity). */
  constructor(
    readonly tokens: readonly AddedToken[],
    private readonly normalize: (text: string) => string = (text) => text,
  ) {
    this.raw = new AddedTokenMatcher(tokens.filter((t) => !t.normalized));
    this.normalized = new AddedTokenMatcher(
      tokens.filter((t) => t.normalized),
      normalize,
    );
  }

  /**
   * Visits `text` in order: `plain(part, start)` for each normalized span of plain text, where
   * `start` is the UTF-16 index in `text` of the raw span it came from plus its index in the
   * normalized span (the two agree when the normalizer keeps lengths); `added(token, start, end)`
   * for each added token found. `skip` as in {@link AddedTokenMatcher.split}.
   *
   * @throws Error - where Hugging Face `tokenizers` fails ({@link AddedTokenMatcher.split})
   */
  split(
    text: string,
    skip: (token: AddedToken) => boolean,
    plain: (part: string, start: number) => void,
    added: (token: AddedToken, start: number, end: number) => void,
  ): void {
    this.raw.split(
      text,
      skip,
      (start, end) => {
        const part = this.normalize(text.slice(start, end));
        this.normalized.split(
          part,
          skip,
          (s, e) => plain(part.slice(s, e), start + s),
          (t, s, e) => added(t, start + s, start + e),
        );
      },
      added,
    );
  }
}
