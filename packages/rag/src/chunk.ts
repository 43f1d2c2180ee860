import { checkDocuments, type TextDocument } from './document.js';
import { checkOptions } from './options.js';
import { measure, type TokenizerLike } from './tokenizer-like.js';

/**
 * A piece of a source text that an answer can cite: `text` is exactly
 * `source.slice(start, end)` (UTF-16 offsets, `end` exclusive), trimmed of whitespace.
 */
export interface Chunk {
  /** `${sourceId}#${index}`. */
  readonly id: string;
  readonly sourceId: string;
  /** Position among its source's chunks, from 0. */
  readonly index: number;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** Options of {@link chunkText} and {@link chunkDocuments}. */
export interface ChunkOptions {
  /**
   * Largest chunk, in tokens when `tokenizer` is given, else in UTF-16 code units. Default 1000
   * characters, or 256 tokens.
   */
  chunkSize?: number;
  /**
   * Most text a chunk repeats from the end of the one before, in the same unit; whole pieces
   * (paragraphs, sentences, words) are repeated, never cut. Default 0; must be below `chunkSize`.
   */
  chunkOverlap?: number;
  /**
   * Where to split, coarsest first; a piece still too long is split at the next one, and past the
   * last one at the longest prefix that fits. Default {@link DEFAULT_SEPARATORS}.
   */
  separators?: readonly (string | RegExp)[];
  /** Measures sizes in tokens (a `@tessera/tokenizer` `Tokenizer` or anything with `encode`). */
  tokenizer?: TokenizerLike;
}

/**
 * Paragraph (blank line), line, sentence (after `.`, `!` or `?`, closing quotes or brackets and
 * whitespace, or after `。！？`) and word (space). A separator stays with the piece before it, so
 * the pieces tile the text and offsets stay exact.
 */
export const DEFAULT_SEPARATORS: readonly (string | RegExp)[] = [
  '\n\n',
  '\n',
  /[.!?]+["'”’)\]]*\s+|[。！？]+/,
  ' ',
];

type Span = [start: number, end: number];

const isSpace = (code: number) => /\s/.test(String.fromCharCode(code));

/** Splits one text into spans that fit, recursively, as LangChain's recursive splitter does. */
class Splitter {
  constructor(
    private readonly text: string,
    private readonly size: number,
    private readonly overlap: number,
    private readonly separators: readonly (string | RegExp)[],
    private readonly tokenizer: TokenizerLike | undefined,
  ) {}

  split(start: number, end: number, level: number): Span[] {
    if (this.fits(start, end)) return this.emit(start, end);
    if (level >= this.separators.length) return this.hardSplit(start, end);
    const pieces = this.cut(start, end, this.separators[level]!);
    if (pieces.length === 1) return this.split(start, end, level + 1);
    const out: Span[] = [];
    let run: Span[] = [];
    for (const piece of pieces) {
      if (this.fits(piece[0], piece[1])) {
        run.push(piece);
        continue;
      }
      out.push(...this.merge(run), ...this.split(piece[0], piece[1], level + 1));
      run = [];
    }
    out.push(...this.merge(run));
    return out;
  }

  /** Packs consecutive pieces into chunks that fit, each after the first starting with overlap. */
  private merge(pieces: Span[]): Span[] {
    const out: Span[] = [];
    let i = 0;
    while (i < pieces.length) {
      let j = i;
      while (j + 1 < pieces.length && this.fits(pieces[i]![0], pieces[j + 1]![1])) j++;
      out.push(...this.emit(pieces[i]![0], pieces[j]![1]));
      if (j + 1 >= pieces.length) break;
      let p = j + 1;
      while (
        p - 1 > i &&
        this.length(pieces[p - 1]![0], pieces[j]![1]) <= this.overlap &&
        this.fits(pieces[p - 1]![0], pieces[j + 1]![1])
      )
        p--;
      i = p;
    }
    return out;
  }

  /** Cuts [start, end) after each occurrence of `separator`: pieces that tile the span. */
  private cut(start: number, end: number, separator: string | RegExp): Span[] {
    const slice = this.text.slice(start, end);
    const cuts: number[] = [];
    if (typeof separator === 'string') {
      if (separator === '') throw new RangeError('chunkText: a separator must not be empty');
      for (
        let at = slice.indexOf(separator);
        at >= 0;
        at = slice.indexOf(separator, at + separator.length)
      )
        cuts.push(at + separator.length);
    } else {
      const flags = separator.flags.includes('g') ? separator.flags : `${separator.flags}g`;
      for (const m of slice.matchAll(new RegExp(separator.source, flags)))
        if (m[0].length > 0) cuts.push(m.index + m[0].length);
    }
    const pieces: Span[] = [];
    let from = 0;
    for (const c of cuts) {
      if (c <= from || c >= slice.length) continue;
      pieces.push([start + from, start + c]);
      from = c;
    }
    pieces.push([start + from, end]);
    return pieces;
  }

  /** Past the last separator: the longest prefixes that fit (whole code points), with overlap. */
  private hardSplit(start: number, end: number): Span[] {
    const out: Span[] = [];
    let a = start;
    while (a < end) {
      // The largest b with [a, b) fitting; at least one code point, so that splitting ends.
      let b = end;
      if (!this.fits(a, end)) {
        let lo = this.afterCodePoint(a);
        let hi = end;
        while (hi - lo > 1) {
          const mid = (lo + hi) >> 1;
          if (this.fits(a, mid)) lo = mid;
          else hi = mid;
        }
        b = this.isInsidePair(lo) ? lo - 1 : lo;
        if (b <= a) b = this.afterCodePoint(a);
      }
      out.push(...this.emit(a, b));
      if (b >= end) break;
      // The next chunk starts at the smallest q in (a, b] whose tail [q, b) fits the overlap.
      let q = b;
      if (this.overlap > 0) {
        let lo = a;
        let hi = b;
        while (hi - lo > 1) {
          const mid = (lo + hi) >> 1;
          if (this.length(mid, b) <= this.overlap) hi = mid;
          else lo = mid;
        }
        q = this.isInsidePair(hi) ? hi + 1 : hi;
      }
      a = q;
    }
    return out;
  }

  /** The position one code point after `at`. */
  private afterCodePoint(at: number): number {
    return this.isInsidePair(at + 1) ? at + 2 : at + 1;
  }

  /** Whether `at` falls between the two halves of a surrogate pair. */
  private isInsidePair(at: number): boolean {
    const code = this.text.charCodeAt(at - 1);
    return code >= 0xd800 && code <= 0xdbff;
  }

  private trim(start: number, end: number): Span {
    while (start < end && isSpace(this.text.charCodeAt(start))) start++;
    while (end > start && isSpace(this.text.charCodeAt(end - 1))) end--;
    return [start, end];
  }

  private emit(start: number, end: number): Span[] {
    const span = this.trim(start, end);
    return span[1] > span[0] ? [span] : [];
  }

  private length(start: number, end: number): number {
    const [s, e] = this.trim(start, end);
    return measure(this.text.slice(s, e), this.tokenizer);
  }

  private fits(start: number, end: number): boolean {
    return this.length(start, end) <= this.size;
  }
}

function integerOption(where: string, name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min)
    throw new RangeError(`${where}: ${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

/**
 * Splits a text into chunks of at most `chunkSize` characters or tokens, at the coarsest
 * separator that works: paragraphs, then lines, sentences, words, and only then inside a word.
 * Consecutive small pieces are packed together; `chunkOverlap` repeats whole trailing pieces.
 * Each chunk keeps its source id and exact span, so an answer can cite it.
 *
 * @param sourceId - the id of the text (a document id); chunk ids are `${sourceId}#${index}`
 * @throws TypeError or RangeError - a missing source id, an empty text, a bad size or overlap
 *   (overlap ≥ size), or an unknown option
 */
export function chunkText(sourceId: string, text: string, options: ChunkOptions = {}): Chunk[] {
  checkDocuments('chunkText', [{ id: sourceId, text }]);
  return split(sourceId, text, options);
}

/**
 * {@link chunkText} for many documents, in order.
 *
 * @throws TypeError or RangeError - a repeated or missing id, an empty text, or bad options,
 *   before anything is chunked
 */
export function chunkDocuments(docs: readonly TextDocument[], options: ChunkOptions = {}): Chunk[] {
  checkDocuments('chunkDocuments', docs);
  return docs.flatMap((doc) => split(doc.id, doc.text, options));
}

function split(sourceId: string, text: string, options: ChunkOptions): Chunk[] {
  const where = 'chunkText';
  checkOptions(where, options, ['chunkSize', 'chunkOverlap', 'separators', 'tokenizer']);
  const { tokenizer } = options;
  if (tokenizer !== undefined && typeof tokenizer?.encode !== 'function')
    throw new TypeError(`${where}: tokenizer must have an encode(text) method`);
  const size = integerOption(where, 'chunkSize', options.chunkSize ?? (tokenizer ? 256 : 1000), 1);
  const overlap = integerOption(where, 'chunkOverlap', options.chunkOverlap ?? 0, 0);
  if (overlap >= size)
    throw new RangeError(
      `${where}: chunkOverlap must be below chunkSize (${size}), got ${overlap}`,
    );
  const separators = options.separators ?? DEFAULT_SEPARATORS;
  const splitter = new Splitter(text, size, overlap, separators, tokenizer);
  return splitter.split(0, text.length, 0).map(([start, end], index) => ({
    id: `${sourceId}#${index}`,
    sourceId,
    index,
    text: text.slice(start, end),
    start,
    end,
  }));
}
