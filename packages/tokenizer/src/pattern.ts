/**
 * Pre-tokenization patterns, and their translation into JavaScript RegExp syntax.
 *
 * Hugging Face `tokenizers` runs a `tokenizer.json`'s split patterns with Oniguruma, tiktoken
 * runs its patterns with Rust's `fancy-regex`, and the two read some constructs unlike each
 * other and unlike JavaScript. `translatePattern` parses a pattern as its engine reads it
 * (`pattern-syntax.ts`) and writes a JavaScript pattern that matches the same text:
 * - `.` matches every character but `\n` (JavaScript's also refuses `\r`, U+2028, U+2029);
 * - `\s` is `\p{White_Space}`, `\d` is `\p{Nd}`, `\h` a hex digit, and `\w` the Unicode word
 *   characters — Alphabetic, marks, decimal digits, connector punctuation, plus Join_Control
 *   (U+200C, U+200D) in fancy-regex, plus ² ³ ¹ ¼ ½ ¾ in Oniguruma outside brackets; `\b` and
 *   `\B` use that `\w`;
 * - `^` and `$` are line anchors in Oniguruma (Ruby syntax: after or before a `\n`) and text
 *   anchors in fancy-regex; `\A`, `\z` and Oniguruma's `\Z` keep their meaning;
 * - `(?i:...)` and a bare `(?i)` become sets of the characters that fold alike (`s` is
 *   `[Ssſ]`); Oniguruma's foldings of one character to several (`ß` and `ss`) are refused;
 * - a possessive quantifier or an atomic group `(?>X)` becomes the atomic `(?=(X))\N`: the
 *   lookahead captures the greedy match and the backreference consumes it, so the engine cannot
 *   backtrack into it. (In Oniguruma's Ruby syntax `X{n,m}+` is not possessive but `(?:X{n,m})+`.)
 * - a bare script name in `\p{...}` (`\p{Han}`) is `\p{Script=Han}`; sets may nest (`[a[^b]]`).
 * The fixtures of `fixtures/make-pattern-fixtures.ts` hold what each engine matches.
 */
import { checkTree } from './backtracking.js';
import { toJavaScript } from './pattern-js.js';
import { type PatternEngine, parsePattern } from './pattern-syntax.js';

export type { PatternEngine } from './pattern-syntax.js';

/** GPT-2 / r50k / p50k (and Hugging Face's ByteLevel pre-tokenizer). */
export const GPT2_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** cl100k_base (GPT-3.5/4), as tiktoken writes it. */
export const CL100K_PATTERN =
  "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";

/** o200k_base (GPT-4o), as tiktoken writes it. */
export const O200K_PATTERN = [
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  '\\p{N}{1,3}',
  ' ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*',
  '\\s*[\\r\\n]+',
  '\\s+(?!\\S)',
  '\\s+',
].join('|');

/**
 * Translates a split pattern, as `engine` reads and means it, into a JavaScript pattern source
 * for `new RegExp(source, 'gu')` that matches the same text (see the module comment for what
 * changes).
 *
 * @throws SyntaxError - a construct outside the supported syntax (named), such as
 *   backreferences, nested sets, flags other than `i`, or an unknown property
 */
export function translatePattern(pattern: string, engine: PatternEngine): string {
  return toJavaScript(parsePattern(pattern, engine), engine);
}

/**
 * A global, Unicode RegExp for a split pattern written for `engine` (Oniguruma for a
 * `tokenizer.json`, fancy-regex for tiktoken), translated by `translatePattern`.
 *
 * @throws SyntaxError - the pattern is outside the supported syntax, does not compile, or can
 *   backtrack catastrophically (see `checkBacktracking`)
 */
export function compilePattern(pattern: string, engine: PatternEngine): RegExp {
  const tree = parsePattern(pattern, engine);
  checkTree(tree, pattern, engine);
  const source = toJavaScript(tree, engine);
  try {
    return new RegExp(source, 'gu');
  } catch (e) {
    throw new SyntaxError(
      `pattern: cannot compile ${JSON.stringify(pattern)} (as ${JSON.stringify(source)}): ${(e as Error).message}`,
    );
  }
}
