/**
 * Pre-tokenization: splitting text into the pieces BPE encodes one by one. Two semantics:
 * - tiktoken: the pieces are the split pattern's matches; text no alternative matches is skipped;
 * - Hugging Face: a sequence of steps (`Split`, then `ByteLevel`), each splitting every piece the
 *   step before produced; unmatched text is kept or dropped as the `Split` behaviour says.
 */
import { compilePattern, GPT2_PATTERN } from './pattern.js';

/** What a `Split` step does with the spans its pattern matches (Hugging Face's `SplitDelimiterBehavior`). */
export type SplitBehavior =
  | 'Removed'
  | 'Isolated'
  | 'MergedWithPrevious'
  | 'MergedWithNext'
  | 'Contiguous';

export const SPLIT_BEHAVIORS: readonly SplitBehavior[] = [
  'Removed',
  'Isolated',
  'MergedWithPrevious',
  'MergedWithNext',
  'Contiguous',
];

/** One step of a Hugging Face pre-tokenizer, as `tokenizer.json` describes it. */
export type PreTokenizerStep =
  | {
      type: 'Split';
      /** A regex (Oniguruma's syntax and meaning, translated for JavaScript), or with `literal` a plain string. */
      pattern: string;
      literal: boolean;
      behavior: SplitBehavior;
      /** Swap matched and unmatched spans before applying the behaviour. */
      invert: boolean;
    }
  | {
      type: 'ByteLevel';
      /** Prepend a space to each piece that does not start with one. */
      addPrefixSpace: boolean;
      /** Split with GPT-2's pattern (Isolated). */
      useRegex: boolean;
    };

/**
 * Receives one piece: its text, where it starts in the input (UTF-16 index), and how many of its
 * leading characters were added rather than read from the input (a prefix space: 0 or 1).
 */
export type PieceSink = (piece: string, start: number, added: number) => void;

/** Splits `text`, which starts at `start` in the input, into pieces. */
export type PreTokenize = (text: string, start: number, sink: PieceSink) => void;

/** tiktoken's pre-tokenizer: every match of the pattern (fancy-regex syntax) is a piece. */
export function tiktokenPreTokenizer(pattern: string): PreTokenize {
  const regex = compilePattern(pattern, 'fancy-regex');
  return (text, start, sink) => {
    for (const m of text.matchAll(regex)) sink(m[0], start + m.index!, 0);
  };
}

/** A span of a string and whether the pattern matched it. */
interface Span {
  start: number;
  end: number;
  match: boolean;
}

/**
 * The spans of `text`, matched and unmatched, covering it (Hugging Face's `Pattern::find_matches`
 * for a regex). As Oniguruma's iterator does, an empty match right where the previous match ended
 * is passed over; other empty matches count, so they split the unmatched text around them.
 */
function findMatches(regex: RegExp, text: string): Span[] {
  const spans: Span[] = [];
  let prev = 0;
  let lastEnd = -1;
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m; m = regex.exec(text)) {
    const start = m.index;
    const end = start + m[0].length;
    if (start === end) {
      regex.lastIndex = end + ((text.codePointAt(end) ?? 0) > 0xffff ? 2 : 1);
      if (end === lastEnd) continue;
    }
    if (prev !== start) spans.push({ start: prev, end: start, match: false });
    spans.push({ start, end, match: true });
    prev = end;
    lastEnd = end;
  }
  if (prev !== text.length) spans.push({ start: prev, end: text.length, match: false });
  return spans;
}

/**
 * The pieces a behaviour keeps, as `[start, end]` pairs (Hugging Face's `NormalizedString::split`):
 * Removed drops matches; Isolated keeps every span; MergedWithPrevious / MergedWithNext glue a
 * match onto the unmatched span before / after it; Contiguous glues runs of spans of one kind.
 */
function applyBehavior(spans: readonly Span[], behavior: SplitBehavior): [number, number][] {
  const out: [number, number][] = [];
  let previousMatch = false;
  switch (behavior) {
    case 'Removed':
      for (const s of spans) if (!s.match) out.push([s.start, s.end]);
      return out;
    case 'Isolated':
      for (const s of spans) out.push([s.start, s.end]);
      return out;
    case 'Contiguous':
      for (const s of spans) {
        if (s.match === previousMatch && out.length > 0) out.at(-1)![1] = s.end;
        else out.push([s.start, s.end]);
        previousMatch = s.match;
      }
      return out;
    case 'MergedWithPrevious':
      for (const s of spans) {
        if (s.match && !previousMatch && out.length > 0) out.at(-1)![1] = s.end;
        else out.push([s.start, s.end]);
        previousMatch = s.match;
      }
      return out;
    case 'MergedWithNext':
      for (let i = spans.length - 1; i >= 0; i--) {
        const s = spans[i]!;
        if (s.match && !previousMatch && out.length > 0) out.at(-1)![0] = s.start;
        else out.push([s.start, s.end]);
        previousMatch = s.match;
      }
      return out.reverse();
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One `Split` step: splits a piece and passes on the non-empty parts it keeps. */
function splitStep(step: Extract<PreTokenizerStep, { type: 'Split' }>): PreTokenize {
  const regex = step.literal
    ? new RegExp(escapeRegExp(step.pattern), 'gu')
    : compilePattern(step.pattern, 'oniguruma');
  return (text, start, sink) => {
    const spans = findMatches(regex, text);
    if (step.invert) for (const s of spans) s.match = !s.match;
    for (const [s, e] of applyBehavior(spans, step.behavior))
      if (e > s) sink(text.slice(s, e), start + s, 0);
  };
}

/**
 * The `ByteLevel` step: a prefix space on each piece that lacks one, then optionally GPT-2's
 * split (Isolated). Mapping bytes to visible characters needs no step here: this package's BPE
 * works on the bytes themselves.
 */
function byteLevelStep(step: Extract<PreTokenizerStep, { type: 'ByteLevel' }>): PreTokenize {
  const regex = step.useRegex ? compilePattern(GPT2_PATTERN, 'oniguruma') : undefined;
  return (text, start, sink) => {
    const added = step.addPrefixSpace && !text.startsWith(' ') ? 1 : 0;
    const spaced = added ? ` ${text}` : text;
    if (!regex) return sink(spaced, start, added);
    for (const s of findMatches(regex, spaced))
      if (s.end > s.start)
        sink(
          spaced.slice(s.start, s.end),
          start + Math.max(0, s.start - added),
          s.start === 0 ? added : 0,
        );
  };
}

/**
 * Hugging Face's pre-tokenizer: the steps in order, each splitting the pieces of the step before.
 * `ByteLevel`, where present, must be the last step (the steps after it would see byte-level
 * characters, which this package does not produce).
 *
 * @throws Error - a step follows `ByteLevel`
 */
export function huggingFacePreTokenizer(steps: readonly PreTokenizerStep[]): PreTokenize {
  let run: PreTokenize = (text, start, sink) => sink(text, start, 0);
  for (const [i, step] of [...steps.entries()].reverse()) {
    if (step.type === 'ByteLevel' && i !== steps.length - 1)
      throw new Error(
        `pre_tokenizer: a ${steps[i + 1]!.type} step after ByteLevel is not supported (ByteLevel must come last)`,
      );
    const split = step.type === 'Split' ? splitStep(step) : byteLevelStep(step);
    const inner = run;
    run =
      i === steps.length - 1
        ? split
        : (text, start, sink) => split(text, start, (piece, at) => inner(piece, at, sink));
  }
  return run;
}
