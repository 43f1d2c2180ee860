import { utf8ByteString } from './bytes.js';
import { checkOptions } from './options.js';
import { compilePattern, GPT2_PATTERN } from './pattern.js';
import { Tokenizer } from './tokenizer.js';

export interface TrainOptions {
  /** Final vocabulary size, the 256 byte tokens and the special tokens included. */
  vocabSize: number;
  /** Special tokens, given ids after the learned tokens, in this order. */
  specialTokens?: readonly string[];
  /** Split pattern, in tiktoken's syntax and meaning (Rust fancy-regex); default GPT-2's. */
  pattern?: string;
  /** Stop merging when the most frequent pair occurs fewer times than this. Default 2. */
  minFrequency?: number;
  /** Called every `progressEvery` merges and at the end. */
  onProgress?: (p: { merges: number; target: number; lastPair: string; count: number }) => void;
  progressEvery?: number;
  name?: string;
}

const TRAIN_OPTIONS = [
  'vocabSize',
  'specialTokens',
  'pattern',
  'minFrequency',
  'onProgress',
  'progressEvery',
  'name',
] as const;

/** A binary max-heap of [count, key] with lazy deletion (stale entries are skipped on pop). */
class PairHeap {
  private readonly items: [number, number][] = [];

  push(count: number, key: number): void {
    const a = this.items;
    a.push([count, key]);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): [number, number] | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }

  // Higher count first; on ties the smaller key, i.e. the pair with the smaller left id, then right id.
  private before(x: [number, number], y: [number, number]): boolean {
    return x[0] > y[0] || (x[0] === y[0] && x[1] < y[1]);
  }
}

/**
 * Trains a byte-level BPE vocabulary (the GPT-2/tiktoken kind). Text is split with the pattern,
 * identical pieces are counted once with their frequency, and merges are learned with
 * incrementally maintained pair counts and a priority queue: each merge touches only the words
 * that contain the pair, never recounting everything.
 *
 * Deterministic: the most frequent pair wins; ties go to the pair whose left token has the
 * smaller id, then the right token (ids are bytes 0–255, then merges in creation order).
 */
export function trainBpe(texts: Iterable<string>, options: TrainOptions): Tokenizer {
  checkOptions('trainBpe', options, TRAIN_OPTIONS);
  const pattern = options.pattern ?? GPT2_PATTERN;
  const specials = options.specialTokens ?? [];
  const minFrequency = options.minFrequency ?? 2;
  const target = options.vocabSize - specials.length;
  if (!Number.isInteger(options.vocabSize) || target < 256) {
    throw new RangeError(
      `trainBpe: vocabSize must be an integer >= 256 + ${specials.length} special tokens, got ${options.vocabSize}`,
    );
  }
  const regex = compilePattern(pattern, 'fancy-regex');

  // Word frequencies.
  const freq = new Map<string, number>();
  for (const text of texts) {
    for (const m of text.matchAll(regex)) {
      const w = utf8ByteString(m[0]);
      freq.set(w, (freq.get(w) ?? 0) + 1);
    }
  }
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [w, c] of freq) {
    words.push(Array.from(w, (ch) => ch.charCodeAt(0)));
    counts.push(c);
  }

  // Token byte strings by id; pair key = left * CAP + right.
  const bytesOf: string[] = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b));
  const CAP = 1 << 20;
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const add = (key: number, word: number, by: number) => {
    pairCount.set(key, (pairCount.get(key) ?? 0) + by);
    if (by > 0) {
      let set = pairWords.get(key);
      if (!set) {
        set = new Set();
        pairWords.set(key, set);
      }
      set.add(word);
    }
  };
  words.forEach((w, i) => {
    for (let k = 0; k + 1 < w.length; k++) add(w[k]! * CAP + w[k + 1]!, i, counts[i]!);
  });
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);

  const every = options.progressEvery ?? 500;
  let merges = 0;
  let last = { pair: '', count: 0 };
  while (bytesOf.length < target) {
    const top = heap.pop();
    if (!top) break;
    const [count, key] = top;
    if (pairCount.get(key) !== count) continue; // stale entry
    if (count < minFrequency) break;
    const left = Math.floor(key / CAP);
    const right = key % CAP;
    const id = bytesOf.length;
    bytesOf.push(bytesOf[left]! + bytesOf[right]!);
    const touched = new Set<number>();
    for (const wi of pairWords.get(key) ?? []) {
      const w = words[wi]!;
      const c = counts[wi]!;
      let k = 0;
      const out: number[] = [];
      // Remove the word's old pairs, rewrite it, add its new pairs.
      for (let j = 0; j + 1 < w.length; j++) {
        const pk = w[j]! * CAP + w[j + 1]!;
        add(pk, wi, -c);
        touched.add(pk);
      }
      while (k < w.length) {
        if (k + 1 < w.length && w[k] === left && w[k + 1] === right) {
          out.push(id);
          k += 2;
        } else out.push(w[k++]!);
      }
      words[wi] = out;
      for (let j = 0; j + 1 < out.length; j++) {
        const pk = out[j]! * CAP + out[j + 1]!;
        add(pk, wi, c);
        touched.add(pk);
      }
    }
    pairWords.delete(key);
    pairCount.delete(key);
    for (const pk of touched) {
      const c = pairCount.get(pk);
      if (c !== undefined && c > 0) heap.push(c, pk);
      else if (c !== undefined) {
        pairCount.delete(pk);
        pairWords.delete(pk);
      }
    }
    merges++;
    last = { pair: bytesOf[id]!, count };
    if (options.onProgress && merges % every === 0)
      options.onProgress({ merges, target: target - 256, lastPair: last.pair, count });
  }
  options.onProgress?.({ merges, target: target - 256, lastPair: last.pair, count: last.count });

  const encoder = new Map<string, number>();
  for (const [id, b] of bytesOf.entries()) encoder.set(b, id);
  const specialTokens: Record<string, number> = {};
  specials.forEach((s, i) => {
    specialTokens[s] = bytesOf.length + i;
  });
  return new Tokenizer({ encoder, pattern, specialTokens, name: options.name ?? 'trained-bpe' });
}
