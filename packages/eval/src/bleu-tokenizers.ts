/**
 * sacreBLEU's BLEU tokenizers (`none`, `13a`, `intl`, `char`, `zh`), character for character. A
 * tokenizer returns a string; BLEU then finds its words with Python's `str.split()` (see
 * python-str.ts), so every Python whitespace character separates words and nothing else does.
 */

import { pythonRstrip, pythonSplit, pythonStrip } from './python-str.js';

export type BleuTokenizer = '13a' | 'none' | 'char' | 'intl' | 'zh';

/** What mteval-v13a splits off: ASCII symbols and punctuation, then periods, commas and dashes. */
const MTEVAL_RULES: [RegExp, string][] = [
  // space to &, ( to +, / , : to @, [ to `, { to ~: every ASCII symbol but ' - . , and digits.
  [/([\x20-\x26\x28-\x2b\x2f\x3a-\x40\x5b-\x60\x7b-\x7e])/gu, ' $1 '],
  // A period or comma not preceded by a digit, then one not followed by a digit.
  [/([^0-9])([.,])/gu, '$1 $2 '],
  [/([.,])([^0-9])/gu, ' $1 $2'],
  // A dash after a digit.
  [/([0-9])(-)/gu, '$1 $2 '],
];

/** The language-dependent part of 13a, which `zh` shares: the rules above, single spaces. */
function mteval(line: string): string {
  let s = line;
  for (const [rule, replacement] of MTEVAL_RULES) s = s.replace(rule, replacement);
  return pythonSplit(s).join(' ');
}

/**
 * mteval-v13a tokenisation, sacreBLEU's default for BLEU: drops `<skipped>` and `-\n`, turns
 * `\n` into a space, unescapes `&quot;`, `&amp;`, `&lt;` and `&gt;`, splits ASCII punctuation and
 * symbols (periods and commas only away from digits), and joins the words with single spaces.
 * Words are separated by Python's whitespace (`str.split()`), so U+0085 and U+001C–U+001F
 * separate and U+FEFF does not. Output equals sacreBLEU 2.x's `Tokenizer13a`.
 */
export function tokenize13a(line: string): string {
  let s = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (s.includes('&'))
    s = s
      .replaceAll('&quot;', '"')
      .replaceAll('&amp;', '&')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>');
  return mteval(` ${s} `);
}

/**
 * International tokenisation (mteval-v14 `--international-tokenization`, sacreBLEU `intl`):
 * Unicode punctuation is split off unless it sits between digits, every symbol is split off,
 * words are separated by Python's whitespace. Output equals sacreBLEU 2.x's
 * `TokenizerV14International` (as with it, a number's final period stays on the number).
 */
export function tokenizeIntl(line: string): string {
  const s = line
    .replace(/(\P{N})(\p{P})/gu, '$1 $2 ')
    .replace(/(\p{P})(\P{N})/gu, ' $1 $2')
    .replace(/(\p{S})/gu, ' $1 ');
  return pythonSplit(s).join(' ');
}

/**
 * The code points sacreBLEU's `zh` tokenizer treats as Chinese characters. sacreBLEU writes two of
 * its ranges as `'\u20000'`–`'\u2a6d6'` and `'\u2f800'`–`'\u2fa1d'`, which Python reads as two
 * characters each and compares as strings: in effect they hold U+2001–U+2A6D (general
 * punctuation, currency, arrows, dingbats; thin and other spaces too) and U+2F81–U+2FA1, and no
 * ideograph beyond the BMP. The ranges below are those effective ones, so scores agree.
 */
const ZH_RANGES: readonly [number, number][] = [
  [0x3400, 0x4db5],
  [0x4e00, 0x9fa5],
  [0x9fa6, 0x9fbb],
  [0xf900, 0xfa2d],
  [0xfa30, 0xfa6a],
  [0xfa70, 0xfad9],
  [0x2001, 0x2a6d],
  [0x2f81, 0x2fa1],
  [0xff00, 0xffef],
  [0x2e80, 0x2eff],
  [0x3000, 0x303f],
  [0x31c0, 0x31ef],
  [0x2f00, 0x2fdf],
  [0x2ff0, 0x2fff],
  [0x3100, 0x312f],
  [0x31a0, 0x31bf],
  [0xfe10, 0xfe1f],
  [0xfe30, 0xfe4f],
  [0x2600, 0x26ff],
  [0x2700, 0x27bf],
  [0x3200, 0x32ff],
  [0x3300, 0x33ff],
];

const isZhChar = (c: number) => ZH_RANGES.some(([lo, hi]) => c >= lo && c <= hi);

/**
 * Chinese tokenisation (sacreBLEU `zh`): strips the line (Python's whitespace), puts every Chinese
 * character (see the ranges above) between spaces, then applies 13a's punctuation rules (not its
 * `<skipped>` and entity handling). Output equals sacreBLEU 2.x's `TokenizerZh`.
 */
export function tokenizeZh(line: string): string {
  let s = '';
  for (const ch of pythonStrip(line)) s += isZhChar(ch.codePointAt(0)!) ? ` ${ch} ` : ch;
  return mteval(s);
}

/**
 * The tokens BLEU counts for one line, as sacreBLEU's `BLEU` finds them: trailing whitespace
 * removed (`rstrip`), the tokenizer applied, then Python's `split()`. `char` makes every code
 * point a token except Python's whitespace; `none` only splits.
 */
export function bleuTokens(kind: BleuTokenizer, line: string): string[] {
  const s = pythonRstrip(line);
  switch (kind) {
    case '13a':
      return pythonSplit(tokenize13a(s));
    case 'intl':
      return pythonSplit(tokenizeIntl(s));
    case 'zh':
      return pythonSplit(tokenizeZh(s));
    case 'char':
      return pythonSplit(Array.from(s).join(' '));
    case 'none':
      return pythonSplit(s);
    default:
      throw new TypeError(
        `bleu: tokenize must be 13a, intl, zh, char or none, got ${JSON.stringify(kind)}`,
      );
  }
}
