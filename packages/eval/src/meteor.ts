/**
 * METEOR (Banerjee & Lavie, 2005) with exact and Porter-stem matching, scored as NLTK's
 * `meteor_score` does: align words in stages, then a recall-weighted harmonic mean of unigram
 * precision and recall, discounted by a fragmentation penalty on the number of chunks.
 * Synonym matching needs WordNet and is not included.
 */

import { checkOptions } from './options.js';
import { porterStem } from './porter.js';
import { pythonSplit } from './python-str.js';

export interface MeteorOptions {
  /** Weight of precision against recall in the harmonic mean (default 0.9). */
  alpha?: number;
  /** Exponent of the fragmentation penalty (default 3). */
  beta?: number;
  /** Maximum fragmentation penalty (default 0.5). */
  gamma?: number;
  /** Match Porter stems after exact words (default true). */
  stem?: boolean;
}

const OPTION_KEYS = ['alpha', 'beta', 'gamma', 'stem'];

/** A word still waiting for a match: its position in the sentence and its form at this stage. */
type Slot = { index: number; form: string };
type Match = [hypothesisIndex: number, referenceIndex: number];

/**
 * One alignment stage. From the last hypothesis word to the first, each pairs with the last
 * unmatched reference word of the same form; matched words leave both lists.
 */
function matchStage(hypothesis: Slot[], reference: Slot[]): Match[] {
  const matches: Match[] = [];
  for (let i = hypothesis.length - 1; i >= 0; i--) {
    for (let j = reference.length - 1; j >= 0; j--) {
      if (hypothesis[i]!.form !== reference[j]!.form) continue;
      matches.push([hypothesis[i]!.index, reference[j]!.index]);
      hypothesis.splice(i, 1);
      reference.splice(j, 1);
      break;
    }
  }
  return matches;
}

/** Chunks: maximal runs of matches adjacent in both sentences (matches sorted by hypothesis position). */
function countChunks(matches: readonly Match[]): number {
  let chunks = 1;
  for (let k = 1; k < matches.length; k++) {
    const [h0, r0] = matches[k - 1]!;
    const [h1, r1] = matches[k]!;
    if (!(h1 === h0 + 1 && r1 === r0 + 1)) chunks++;
  }
  return chunks;
}

function toWords(text: string | readonly string[]): string[] {
  const words = typeof text === 'string' ? pythonSplit(text) : [...text];
  return words.map((w) => w.toLowerCase());
}

function singleMeteor(
  hypothesis: string[],
  reference: string[],
  o: Required<MeteorOptions>,
): number {
  const hyp = hypothesis.map((form, index) => ({ index, form }));
  const ref = reference.map((form, index) => ({ index, form }));
  const matches = matchStage(hyp, ref);
  if (o.stem) {
    const stemmed = (slots: Slot[]) =>
      slots.map((s) => ({ index: s.index, form: porterStem(s.form) }));
    matches.push(...matchStage(stemmed(hyp), stemmed(ref)));
  }
  if (matches.length === 0 || hypothesis.length === 0 || reference.length === 0) return 0;
  matches.sort((a, b) => a[0] - b[0]);
  const precision = matches.length / hypothesis.length;
  const recall = matches.length / reference.length;
  const fmean = (precision * recall) / (o.alpha * precision + (1 - o.alpha) * recall);
  const penalty = o.gamma * (countChunks(matches) / matches.length) ** o.beta;
  return (1 - penalty) * fmean;
}

/**
 * METEOR of one hypothesis: the best score over its references. Strings are split on Python's
 * whitespace, as `str.split()` does (tokenise first to separate punctuation); words are lowercased.
 */
export function meteor(
  hypothesis: string | readonly string[],
  references: string | readonly (string | readonly string[])[],
  options: MeteorOptions = {},
): number {
  checkOptions('meteor', options, OPTION_KEYS);
  const o = {
    alpha: options.alpha ?? 0.9,
    beta: options.beta ?? 3,
    gamma: options.gamma ?? 0.5,
    stem: options.stem ?? true,
  };
  if (!(o.alpha >= 0 && o.alpha <= 1))
    throw new RangeError(`meteor: alpha must be in [0, 1], got ${o.alpha}`);
  if (!(o.gamma >= 0 && o.gamma <= 1))
    throw new RangeError(`meteor: gamma must be in [0, 1], got ${o.gamma}`);
  const refs = typeof references === 'string' ? [references] : references;
  if (refs.length === 0) throw new RangeError('meteor: expected at least one reference');
  const hyp = toWords(hypothesis);
  return Math.max(...refs.map((r) => singleMeteor(hyp, toWords(r), o)));
}

/** Mean METEOR over a corpus of hypotheses, each with its references. */
export function corpusMeteor(
  hypotheses: readonly (string | readonly string[])[],
  references: readonly (string | readonly (string | readonly string[])[])[],
  options: MeteorOptions = {},
): number {
  checkOptions('corpusMeteor', options, OPTION_KEYS);
  if (hypotheses.length !== references.length) {
    throw new RangeError(
      `corpusMeteor: ${hypotheses.length} hypotheses but ${references.length} references`,
    );
  }
  if (hypotheses.length === 0) return 0;
  return (
    hypotheses.reduce((sum, h, i) => sum + meteor(h, references[i]!, options), 0) /
    hypotheses.length
  );
}
