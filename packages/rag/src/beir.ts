import type { Qrels } from './metrics.js';

/** A BEIR corpus entry. */
export interface BeirDocument {
  readonly title: string;
  readonly text: string;
}

/** A retrieval data set in BEIR's layout, parsed. */
export interface BeirDataset {
  /** Document id → title and text. */
  readonly corpus: Map<string, BeirDocument>;
  /** Query id → text (only queries of the split's qrels when loaded with `loadBeir`). */
  readonly queries: Map<string, string>;
  readonly qrels: Qrels;
}

function parseLines(
  text: string,
  file: string,
): { line: number; value: Record<string, unknown> }[] {
  const out: { line: number; value: Record<string, unknown> }[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new SyntaxError(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new SyntaxError(`${file}:${i + 1}: expected a JSON object`);
    out.push({ line: i + 1, value: value as Record<string, unknown> });
  });
  return out;
}

function idOf(
  value: Record<string, unknown>,
  file: string,
  line: number,
  seen: Set<string>,
): string {
  const id = value._id;
  if (typeof id !== 'string' || id === '')
    throw new SyntaxError(
      `${file}:${line}: "_id" must be a non-empty string, got ${JSON.stringify(id)}`,
    );
  if (seen.has(id)) throw new SyntaxError(`${file}:${line}: duplicate "_id" ${JSON.stringify(id)}`);
  seen.add(id);
  return id;
}

/**
 * BEIR's `corpus.jsonl`: one `{"_id", "title", "text"}` object a line (`title` may be missing or
 * empty; other fields are ignored).
 *
 * @param file - names the file in messages
 * @throws SyntaxError - a line that is not a JSON object, a missing or repeated `_id`, no `text`
 */
export function parseBeirCorpus(text: string, file = 'corpus.jsonl'): Map<string, BeirDocument> {
  const corpus = new Map<string, BeirDocument>();
  const seen = new Set<string>();
  for (const { line, value } of parseLines(text, file)) {
    const id = idOf(value, file, line, seen);
    if (typeof value.text !== 'string')
      throw new SyntaxError(`${file}:${line}: "text" must be a string`);
    corpus.set(id, { title: typeof value.title === 'string' ? value.title : '', text: value.text });
  }
  return corpus;
}

/**
 * BEIR's `queries.jsonl`: one `{"_id", "text"}` object a line.
 *
 * @throws SyntaxError - as {@link parseBeirCorpus}
 */
export function parseBeirQueries(text: string, file = 'queries.jsonl'): Map<string, string> {
  const queries = new Map<string, string>();
  const seen = new Set<string>();
  for (const { line, value } of parseLines(text, file)) {
    const id = idOf(value, file, line, seen);
    if (typeof value.text !== 'string')
      throw new SyntaxError(`${file}:${line}: "text" must be a string`);
    queries.set(id, value.text);
  }
  return queries;
}

/**
 * BEIR's `qrels/<split>.tsv`: a header line `query-id	corpus-id	score`, then one tab-separated
 * judgment a line (integer grades).
 *
 * @throws SyntaxError - a missing header, a line without three fields, a grade that is not an
 *   integer, or a pair judged twice
 */
export function parseBeirQrels(text: string, file = 'qrels.tsv'): Qrels {
  const lines = text.split('\n');
  const header = lines[0]?.trim().split('\t');
  if (header?.[0] !== 'query-id' || header[1] !== 'corpus-id' || header[2] !== 'score')
    throw new SyntaxError(`${file}:1: expected the header "query-id\\tcorpus-id\\tscore"`);
  const qrels: Record<string, Record<string, number>> = {};
  lines.slice(1).forEach((raw, i) => {
    if (raw.trim() === '') return;
    const fields = raw.replace(/\r$/, '').split('\t');
    const [q, d, s] = fields;
    if (fields.length !== 3 || !q || !d)
      throw new SyntaxError(
        `${file}:${i + 2}: expected query-id, corpus-id and score separated by tabs`,
      );
    const grade = Number(s);
    if (!Number.isInteger(grade))
      throw new SyntaxError(`${file}:${i + 2}: score ${JSON.stringify(s)} is not an integer`);
    qrels[q] ??= {};
    const judgments = qrels[q];
    if (d in judgments)
      throw new SyntaxError(`${file}:${i + 2}: query ${q} judges document ${d} twice`);
    judgments[d] = grade;
  });
  return qrels;
}

/** The text BEIR's retrievers index for a document: the title, a space, the text (or the text). */
export function beirDocumentText(doc: BeirDocument): string {
  return doc.title ? `${doc.title} ${doc.text}` : doc.text;
}
