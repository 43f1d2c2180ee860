/**
 * Python's `str.split()`, `str.strip()` and `str.rstrip()` with no argument, which sacreBLEU uses
 * to find words and to trim lines. Their whitespace is `str.isspace()`: U+0009–U+000D,
 * U+001C–U+001F, space, U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F
 * and U+3000. JavaScript's `\s` differs: it adds U+FEFF and lacks U+001C–U+001F and U+0085.
 * Neither set holds U+200B (zero width space) or other format characters.
 */

const WHITESPACE =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const RUN = new RegExp(`[${WHITESPACE}]+`);
const ONE = new RegExp(`^[${WHITESPACE}]$`);

// Every whitespace character is one UTF-16 code unit, and no surrogate is whitespace.
const isSpace = (s: string, i: number) => ONE.test(s[i]!);

/** The words of `s` as Python's `s.split()` finds them: runs of whitespace separate, ends dropped. */
export function pythonSplit(s: string): string[] {
  return s.split(RUN).filter((w) => w.length > 0);
}

/** `s` without leading and trailing whitespace, as Python's `s.strip()`. */
export function pythonStrip(s: string): string {
  let start = 0;
  while (start < s.length && isSpace(s, start)) start++;
  return pythonRstrip(s.slice(start));
}

/** `s` without trailing whitespace, as Python's `s.rstrip()`. */
export function pythonRstrip(s: string): string {
  let end = s.length;
  while (end > 0 && isSpace(s, end - 1)) end--;
  return s.slice(0, end);
}
