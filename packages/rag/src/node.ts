/**
 * @packageDocumentation
 * Files, for Node: saving and loading the in-process indexes atomically, and reading a BEIR data
 * set from its folder. Kept out of the main entry so that `@tessera/rag` runs in browsers too.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type BeirDataset, parseBeirCorpus, parseBeirQrels, parseBeirQueries } from './beir.js';
import type { FlatIndex } from './flat-index.js';
import type { HnswIndex } from './hnsw.js';
import { IndexFileError } from './index-file.js';
import { readIndex } from './read-index.js';

/**
 * Writes `data` to `path` atomically: to a temporary file in the same folder, then renamed over
 * `path`, so a reader sees the old file or the new one, never half of one. The temporary file
 * is removed if writing fails.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Saves an index to `path` atomically (see `index-file.ts` for the format). */
export async function saveIndex(path: string, index: FlatIndex | HnswIndex): Promise<void> {
  await writeFileAtomic(path, index.toBytes());
}

/**
 * The bytes of an index file, for the loaders ({@link loadIndex}, `HnswlibStore.load`).
 *
 * @throws IndexFileError - no file at `path`, or one that cannot be read (the error code named)
 */
export async function readIndexFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new IndexFileError(
      code === 'ENOENT' ? `${path}: no index file there` : `${path}: cannot read (${code ?? e})`,
    );
  }
}

/**
 * Loads an index saved by {@link saveIndex}: a `FlatIndex` or an `HnswIndex`, as saved.
 *
 * @throws IndexFileError - no file at `path`, or a file that is not a readable index of this
 *   format version (truncated, corrupt, another kind of file)
 */
export async function loadIndex(path: string): Promise<FlatIndex | HnswIndex> {
  return readIndex(await readIndexFile(path), path);
}

/**
 * Reads a data set in BEIR's layout from `dir`: `corpus.jsonl`, `queries.jsonl` and
 * `qrels/<split>.tsv`; only the queries the split judges are kept.
 *
 * @throws Error - a missing file (named), or a malformed line (file and line number)
 */
export async function loadBeir(dir: string, split = 'test'): Promise<BeirDataset> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (e) {
      throw new Error(
        `loadBeir: cannot read ${join(dir, name)} (${(e as NodeJS.ErrnoException).code ?? e})`,
      );
    }
  };
  const qrels = parseBeirQrels(await read(`qrels/${split}.tsv`), `qrels/${split}.tsv`);
  const corpus = parseBeirCorpus(await read('corpus.jsonl'));
  const all = parseBeirQueries(await read('queries.jsonl'));
  const queries = new Map<string, string>();
  for (const q of Object.keys(qrels)) {
    const text = all.get(q);
    if (text === undefined)
      throw new Error(`loadBeir: qrels/${split}.tsv judges query ${q}, which queries.jsonl lacks`);
    queries.set(q, text);
  }
  return { corpus, queries, qrels };
}
