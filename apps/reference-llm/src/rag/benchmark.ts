import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Qrels } from '@tessera/rag';
import { Rng } from '@tessera/tensor-webgpu';
import { writeAtomic } from '../atomic-write.js';

/** A speech of the play text: who speaks, and what. */
export interface Speech {
  speaker: string;
  text: string;
}

/** A benchmark question: "Who says …?", answered by the speaker of one passage. */
export interface BenchmarkQuery {
  id: string;
  text: string;
  /** The speaker, the answer an end-to-end run is scored against. */
  answer: string;
}

/**
 * The app's retrieval benchmark, in BEIR's shape: passages (speeches), questions, and which
 * passage answers each question, split into train and a held-out test split whose passages
 * no training question is about.
 */
export interface RetrievalBenchmark {
  corpus: { id: string; title: string; text: string }[];
  queries: BenchmarkQuery[];
  qrels: { train: Qrels; test: Qrels };
}

export interface BenchmarkOptions {
  /** Passages in the corpus. Default 1000. */
  passages?: number;
  /** Share of the passages whose questions are held out. Default 0.2. */
  heldout?: number;
  /** Words of the speech a question quotes. Default 5. */
  quoteWords?: number;
  seed?: number;
}

/** Speeches of a play text: blocks separated by blank lines, each `NAME:` then its lines. */
export function speeches(text: string): Speech[] {
  const out: Speech[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const m = /^([A-Z][A-Za-z' ]*[A-Za-z]):\n([\s\S]+)$/.exec(block.trim());
    if (m) out.push({ speaker: m[1]!, text: m[2]!.trim() });
  }
  return out;
}

/**
 * Builds the benchmark from a play text: `passages` speeches of 2 to 6 lines and 80 to 320
 * characters (so a passage fits a small encoder's window), chosen at random with `seed`, each a
 * passage `SPEAKER: text`; for each, one question quoting `quoteWords` consecutive words of the
 * speech, lowercased and without punctuation ("who says «…»?"), answered by the speaker.
 *
 * @throws RangeError - the text has fewer such speeches than `passages`
 */
export function buildBenchmark(text: string, options: BenchmarkOptions = {}): RetrievalBenchmark {
  const n = options.passages ?? 1000;
  const heldout = options.heldout ?? 0.2;
  const quoteWords = options.quoteWords ?? 5;
  const rng = new Rng(options.seed ?? 19);
  const eligible = speeches(text).filter((s) => {
    const lines = s.text.split('\n').length;
    return lines >= 2 && lines <= 6 && s.text.length >= 80 && s.text.length <= 320;
  });
  if (eligible.length < n)
    throw new RangeError(
      `buildBenchmark: the text has ${eligible.length} speeches of 2–6 lines and 80–320 characters; ${n} passages were asked for`,
    );
  const chosen = shuffle(eligible, rng).slice(0, n);
  const corpus = chosen.map((s, i) => ({ id: `p${i}`, title: s.speaker, text: s.text }));
  const queries = chosen.map((s, i) => {
    const words = s.text.toLowerCase().match(/[a-z']+/g)!;
    const at = Math.floor(rng.next() * Math.max(1, words.length - quoteWords + 1));
    const quote = words.slice(at, at + quoteWords).join(' ');
    return { id: `q${i}`, text: `who says «${quote}»?`, answer: s.speaker };
  });
  const testFrom = Math.round(n * (1 - heldout));
  const judged = (from: number, to: number): Qrels =>
    Object.fromEntries(queries.slice(from, to).map((q, i) => [q.id, { [`p${from + i}`]: 1 }]));
  const qrels = { train: judged(0, testFrom), test: judged(testFrom, n) };
  return { corpus, queries, qrels };
}

/**
 * Writes the benchmark in BEIR's layout, each file atomically: `corpus.jsonl`, `queries.jsonl`
 * (the answer in `metadata.answer`), `qrels/train.tsv` and `qrels/test.tsv`.
 */
export function writeBenchmark(dir: string, bench: RetrievalBenchmark): void {
  mkdirSync(join(dir, 'qrels'), { recursive: true });
  const jsonl = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  writeAtomic(
    join(dir, 'corpus.jsonl'),
    jsonl(bench.corpus.map((d) => ({ _id: d.id, title: d.title, text: d.text }))),
  );
  writeAtomic(
    join(dir, 'queries.jsonl'),
    jsonl(bench.queries.map((q) => ({ _id: q.id, text: q.text, metadata: { answer: q.answer } }))),
  );
  for (const split of ['train', 'test'] as const) {
    const lines = Object.entries(bench.qrels[split]).flatMap(([q, docs]) =>
      Object.entries(docs).map(([d, grade]) => `${q}\t${d}\t${grade}\n`),
    );
    writeAtomic(
      join(dir, 'qrels', `${split}.tsv`),
      `query-id\tcorpus-id\tscore\n${lines.join('')}`,
    );
  }
}

function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
