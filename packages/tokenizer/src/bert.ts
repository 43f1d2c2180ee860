/**
 * BERT's text handling as Hugging Face `tokenizers` does it: the BertNormalizer
 * (`normalizers/bert.rs`) and the BertPreTokenizer (`pre_tokenizers/bert.rs`). Their character
 * classes come from the `unicode_categories` crate, whose tables are Unicode 8.0
 * (`unicode-8.ts`), so a character given a category later is not in it here either.
 */
import { NONSPACING_MARK_8, OTHER_8, PUNCTUATION_8 } from './unicode-8.js';

/** Whether code point `c` lies in flattened inclusive ranges `[start, end, start, end, …]`. */
export function inRanges(ranges: readonly number[], c: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (c < ranges[2 * mid]!) hi = mid - 1;
    else if (c > ranges[2 * mid + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

/** The BertNormalizer's steps, applied in this order. */
export interface BertNormalizerOptions {
  /** Drop NUL, U+FFFD and Cc/Cf/Co characters except tab, newline and CR; whitespace → space. */
  cleanText: boolean;
  /** Put spaces around CJK ideographs, so each is a word. */
  handleChineseChars: boolean;
  /** NFD, then drop nonspacing marks (Mn). */
  stripAccents: boolean;
  /** Lowercase each character on its own (no final-sigma rule: `Σ` is always `σ`). */
  lowercase: boolean;
}

/** Rust's `char::is_whitespace`: the Unicode White_Space property. */
const WHITE_SPACE = /^\p{White_Space}$/u;
const WHITE_SPACE_RUN = /\p{White_Space}+/u;

/**
 * The CJK blocks BERT isolates, as Hugging Face writes them (Extension E starts at U+2B920
 * there, not U+2B820).
 */
const CHINESE = [
  0x3400, 0x4dbf, 0x4e00, 0x9fff, 0xf900, 0xfaff, 0x20000, 0x2a6df, 0x2a700, 0x2b73f, 0x2b740,
  0x2b81f, 0x2b920, 0x2ceaf, 0x2f800, 0x2fa1f,
];

/** Normalizes text as Hugging Face's BertNormalizer. */
export function bertNormalize(text: string, o: BertNormalizerOptions): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (o.cleanText) {
      if (ch === '\t' || ch === '\n' || ch === '\r') {
        out += ' ';
        continue;
      }
      if (c === 0 || c === 0xfffd || inRanges(OTHER_8, c)) continue;
      if (WHITE_SPACE.test(ch)) {
        out += ' ';
        continue;
      }
    }
    out += o.handleChineseChars && inRanges(CHINESE, c) ? ` ${ch} ` : ch;
  }
  if (o.stripAccents) {
    let stripped = '';
    for (const ch of out.normalize('NFD'))
      if (!inRanges(NONSPACING_MARK_8, ch.codePointAt(0)!)) stripped += ch;
    out = stripped;
  }
  if (o.lowercase) {
    let lower = '';
    for (const ch of out) lower += ch.toLowerCase();
    out = lower;
  }
  return out;
}

/** ASCII punctuation or Unicode 8.0 punctuation (P*): what BERT isolates. */
function isPunctuation(c: number): boolean {
  return (
    (c >= 33 && c <= 47) ||
    (c >= 58 && c <= 64) ||
    (c >= 91 && c <= 96) ||
    (c >= 123 && c <= 126) ||
    inRanges(PUNCTUATION_8, c)
  );
}

/** Words as Hugging Face's BertPreTokenizer splits them: at whitespace (dropped), then around each punctuation character. */
export function bertPreTokenize(text: string): string[] {
  const words: string[] = [];
  for (const chunk of text.split(WHITE_SPACE_RUN)) {
    let word = '';
    for (const ch of chunk) {
      if (isPunctuation(ch.codePointAt(0)!)) {
        if (word) words.push(word);
        words.push(ch);
        word = '';
      } else word += ch;
    }
    if (word) words.push(word);
  }
  return words;
}
