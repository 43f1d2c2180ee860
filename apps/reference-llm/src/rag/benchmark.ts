import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Qrels } from '@tessera/rag';
import { checkOptions, Rng } from '@tessera/tensor-webgpu';
import { writeAtomic } from '../atomic-write.js';

/** A speech of the play text: who speaks, and what. */
export interface Speech {
  speaker: string;
  text: string;
}

/** How a question points at its passage: five of its words in a row, or three reworded. */
export type QuestionKind = 'quote' | 'keywords';

/** A benchmark question: "Who says …?", answered by the speaker of one passage. */
export interface BenchmarkQuery {
  id: string;
  text: string;
  kind: QuestionKind;
  /** The speaker, the answer an end-to-end run is scored against. */
  answer: string;
}

/**
 * The app's retrieval benchmark, in BEIR's shape: passages (speeches), questions, and which
 * passage answers each question, split into train, dev and a held-out test split: no dev or
 * test question is about a passage a training question is about.
 */
export interface RetrievalBenchmark {
  corpus: { id: string; title: string; text: string }[];
  queries: BenchmarkQuery[];
  qrels: { train: Qrels; dev: Qrels; test: Qrels };
}

export interface BenchmarkOptions {
  /** Passages in the corpus. Default 1000. */
  passages?: number;
  /** Share of the passages whose questions are the test split. Default 0.2. */
  heldout?: number;
  /** Share of the passages whose questions are the dev split (for tuning, e.g. fusion weights). Default 0.1. */
  dev?: number;
  /** Questions about each training passage (dev and test passages have one). Default 4. */
  trainQuestions?: number;
  /** Words of the speech a quote question quotes. Default 5. */
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

/** Words a keyword question skips: English function words, the plays' among them. */
const STOPWORDS = new Set(
  (
    'about after again against all also and any are art as at be been before but by can could ' +
    'did do does doth for from had has hast hath have he her here him his how if in into is it ' +
    'its let like may me more most must my nor not now of off on one or our out own shall she ' +
    'should so some such than that the thee their them then there these they this those thou ' +
    'through thus thy thine to too upon us very was we were what when where which while who ' +
    'whom why will with would ye yet you your'
  ).split(' '),
);

/**
 * Another form of an English word, by the commonest inflection rules: plural ↔ singular
 * (torches ↔ torch, ladies ↔ lady, kings ↔ king), a past tense as its stem (drenched → drench),
 * the plays' -eth and -'d as modern -s and -ed (burneth → burns, lov'd → loved). The form may be rare or not a word; it shares the word's
 * stem, not its spelling.
 */
export function otherForm(word: string): string {
  if (word.endsWith("'d")) return `${word.slice(0, -2)}ed`;
  if (/[^aeiou]ies$/.test(word)) return `${word.slice(0, -3)}y`;
  if (/(ch|sh|ss|x|o)es$/.test(word)) return word.slice(0, -2);
  if (word.length > 5 && word.endsWith('eth')) return `${word.slice(0, -3)}s`;
  if (word.length > 5 && word.endsWith('ed')) return word.slice(0, -2);
  if (/[^s]s$/.test(word)) return word.slice(0, -1);
  if (/(ch|sh|ss|x)$/.test(word)) return `${word}es`;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  return `${word}s`;
}

/**
 * A question about a speech, without the speech's punctuation or case. `quote`: "who says «…»?"
 * with `quoteWords` consecutive words. `keywords`: "who speaks of a, b and c?" with three of its
 * content words (four letters or more, no function word), in a random order and each in
 * {@link otherForm}: the words of the speech are not in it, only their stems.
 */
function question(text: string, kind: QuestionKind, quoteWords: number, rng: Rng): string {
  const words = text.toLowerCase().match(/[a-z']+/g)!;
  if (kind === 'quote') {
    const at = Math.floor(rng.next() * Math.max(1, words.length - quoteWords + 1));
    return `who says «${words.slice(at, at + quoteWords).join(' ')}»?`;
  }
  const content = [...new Set(words.filter((w) => w.length >= 4 && !STOPWORDS.has(w)))];
  const picked = shuffle(content.length > 0 ? content : words, rng)
    .slice(0, 3)
    .map(otherForm);
  const last = picked.pop()!;
  return `who speaks of ${picked.length > 0 ? `${picked.join(', ')} and ${last}` : last}?`;
}

/**
 * Builds the benchmark from a play text: `passages` speeches of 2 to 6 lines and 80 to 320
 * characters (so a passage fits a small encoder's window), chosen at random with `seed`, each a
 * passage `SPEAKER: text`. The first passages are the training split's, with `trainQuestions`
 * questions each; then the dev and the test passages, one question each. Question kinds
 * alternate, quote and keywords (see `question`); every question is answered by the speaker.
 *
 * @throws RangeError - the text has fewer such speeches than `passages`, or the splits leave no
 *   training passage
 */
export function buildBenchmark(text: string, options: BenchmarkOptions = {}): RetrievalBenchmark {
  checkOptions('buildBenchmark', options, [
    'passages',
    'heldout',
    'dev',
    'trainQuestions',
    'quoteWords',
    'seed',
  ]);
  const n = options.passages ?? 1000;
  const heldout = options.heldout ?? 0.2;
  const dev = options.dev ?? 0.1;
  const trainQuestions = options.trainQuestions ?? 4;
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
  const testFrom = Math.round(n * (1 - heldout));
  const devFrom = Math.round(n * (1 - heldout - dev));
  if (devFrom < 1)
    throw new RangeError(
      `buildBenchmark: heldout ${heldout} and dev ${dev} leave no training passage of ${n}`,
    );
  const chosen = shuffle(eligible, rng).slice(0, n);
  const corpus = chosen.map((s, i) => ({ id: `p${i}`, title: s.speaker, text: s.text }));
  const queries: BenchmarkQuery[] = [];
  const qrels: Record<'train' | 'dev' | 'test', Record<string, Record<string, number>>> = {
    train: {},
    dev: {},
    test: {},
  };
  chosen.forEach((s, i) => {
    const split = i < devFrom ? 'train' : i < testFrom ? 'dev' : 'test';
    const count = split === 'train' ? trainQuestions : 1;
    for (let j = 0; j < count; j++) {
      const kind: QuestionKind = (i + j) % 2 === 0 ? 'quote' : 'keywords';
      const id = j === 0 ? `q${i}` : `q${i}-${j}`;
      queries.push({ id, text: question(s.text, kind, quoteWords, rng), kind, answer: s.speaker });
      qrels[split][id] = { [`p${i}`]: 1 };
    }
  });
  return { corpus, queries, qrels };
}

/**
 * Writes the benchmark in BEIR's layout, each file atomically: `corpus.jsonl`, `queries.jsonl`
 * (the answer and the question's kind in `metadata`), `qrels/train.tsv`, `qrels/dev.tsv`,
 * `qrels/test.tsv`, and the test split by question kind, `qrels/test-quote.tsv` and
 * `qrels/test-keywords.tsv`.
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
    jsonl(
      bench.queries.map((q) => ({
        _id: q.id,
        text: q.text,
        metadata: { answer: q.answer, kind: q.kind },
      })),
    ),
  );
  const writeQrels = (name: string, qrels: Qrels) => {
    const lines = Object.entries(qrels).flatMap(([q, docs]) =>
      Object.entries(docs).map(([d, grade]) => `${q}\t${d}\t${grade}\n`),
    );
    writeAtomic(join(dir, 'qrels', `${name}.tsv`), `query-id\tcorpus-id\tscore\n${lines.join('')}`);
  };
  for (const split of ['train', 'dev', 'test'] as const) writeQrels(split, bench.qrels[split]);
  const kindOf = new Map(bench.queries.map((q) => [q.id, q.kind]));
  for (const kind of ['quote', 'keywords'] as const)
    writeQrels(
      `test-${kind}`,
      Object.fromEntries(Object.entries(bench.qrels.test).filter(([q]) => kindOf.get(q) === kind)),
    );
}

function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
