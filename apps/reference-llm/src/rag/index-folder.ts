import { existsSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import {
  beirDocumentText,
  type Chunk,
  chunkDocuments,
  parseBeirCorpus,
  Retriever,
  type TextDocument,
} from '@tessera/rag';
import { PgVectorStore } from '@tessera/rag/pgvector';
import type * as T from '@tessera/tensor-webgpu';
import { checkOptions } from '@tessera/tensor-webgpu';
import { writeAtomic } from '../atomic-write.js';
import { Progress, type ProgressSink } from '../progress.js';
import { asEmbedder } from './adapters.js';
import { retrievalIds } from './encoders.js';
import {
  closeIndexStore,
  createIndexStore,
  discardIndexStore,
  type IndexStoreKind,
  loadIndexStore,
  STORE_FILES,
  type StoreConnection,
  saveIndexStore,
} from './index-store.js';
import { checkNewFolder, writeNewFolder } from './new-folder.js';
import { type Method, methodRetriever, WEIGHTED_METHODS } from './retrieval-methods.js';
import {
  encoderFingerprint,
  MODEL_FILES,
  type RetrievalModels,
  readRetrievalModels,
} from './retrieval-models.js';

/** The files of an index folder besides the vectors' ({@link STORE_FILES}); `index.json` says what built it. */
export const INDEX_FILES = {
  manifest: 'index.json',
  chunks: 'chunks.jsonl',
} as const;

/**
 * `index.json`. Format 2; format 1 (still read) recorded `models` as an absolute path and no
 * `modelsSha256`.
 */
export interface IndexManifest {
  format: 1 | 2;
  /** The retrieval-models folder whose bi-encoder embedded the chunks, relative to the index folder. */
  models: string;
  /**
   * `encoderFingerprint` of that folder when the chunks were embedded: the SHA-256 of its
   * tokenizer and bi-encoder, so that an index whose models were retrained or replaced is refused.
   */
  modelsSha256?: string;
  /** The data file indexed. */
  data: string;
  documents: number;
  chunks: number;
  /** Chunk size in the encoder's tokens. */
  chunkSize: number;
  /** The vector store, kept in its `STORE_FILES` file (folders from before it was recorded: `hnsw`). */
  store: IndexStoreKind;
}

/**
 * The documents of a data file: a BEIR `corpus.jsonl` (title and text of each line, by `_id`),
 * or any other text file as one document named after the file.
 */
export function readDocuments(path: string): TextDocument[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`--data ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  if (path.endsWith('.jsonl'))
    return [...parseBeirCorpus(text, path)].map(([id, doc]) => ({
      id,
      text: beirDocumentText(doc),
    }));
  return [{ id: basename(path), text }];
}

/** A retriever over an opened index, of the method it was opened with. */
export interface OpenedIndex {
  retriever: Retriever;
  models: RetrievalModels;
  manifest: IndexManifest;
  method: Method;
  /** The dense weight of weighted fusion, for the methods that fuse by weight. */
  denseWeight?: number;
  /** Releases the store's database connection (LanceDB, PostgreSQL); nothing for the others. */
  close(): Promise<void>;
}

/** Options of {@link openIndexFolder}. */
export interface OpenIndexOptions extends StoreConnection {
  /**
   * How to retrieve. Default: the method the models folder records as the best on its tuning
   * split (`retrieval.json`'s `tuned`, written by `rag train` or `rag eval`).
   */
  method?: Method;
}

/**
 * Chunks the documents to the encoder's window (in its tokens, with an eighth as overlap),
 * embeds the chunks with the bi-encoder (a progress bar per batch) into the vector store `store`
 * (`createIndexStore`: by default hnswlib's HNSW graph where `hnswlib-node` is installed, else
 * ours; or LanceDB in the folder; or a PostgreSQL table at `databaseUrl`) and writes `out`: the
 * chunks, the vectors (or the table's name), the manifest. The folder is built beside `out`
 * under a temporary name and renamed at the end, and a PostgreSQL table of a failed build is
 * dropped, so a failed run leaves no half-written index.
 *
 * @throws Error - `out` exists, a document is empty, ids repeat (naming them), `hnswlib` asked
 *   for without `hnswlib-node` installed, `pgvector` without a database URL
 * @throws StoreConnectionError - the database cannot be opened or reached
 */
export async function buildIndexFolder(
  out: string,
  data: string,
  modelsDir: string,
  device: T.Device,
  o: { store?: IndexStoreKind; sink?: ProgressSink } & StoreConnection = {},
): Promise<IndexManifest> {
  checkOptions('buildIndexFolder', o, ['store', 'sink', 'databaseUrl']);
  checkNewFolder(out, { what: 'the index' });
  const models = readRetrievalModels(modelsDir, device);
  const docs = readDocuments(data);
  const chunkSize = models.manifest.model.maxSeqLen;
  const tokenizer = { encode: (t: string) => retrievalIds(models.tokenizer, t) };
  const chunks = chunkDocuments(docs, {
    chunkSize,
    chunkOverlap: Math.floor(chunkSize / 8),
    tokenizer,
  });
  const embedder = asEmbedder(models.biEncoder, models.tokenizer);
  const dimension = models.manifest.model.dModel;
  const manifest: IndexManifest = {
    format: 2,
    models: relative(resolve(out), resolve(modelsDir)),
    modelsSha256: encoderFingerprint(modelsDir),
    data: resolve(data),
    documents: docs.length,
    chunks: chunks.length,
    chunkSize,
    store: o.store ?? 'hnsw',
  };
  await writeNewFolder(out, { what: 'the index' }, async (dir) => {
    const { kind, store } = await createIndexStore(o.store, dimension, dir, {
      databaseUrl: o.databaseUrl,
    });
    manifest.store = kind;
    // Everything but the store is written first: the store is kept (and released) last, and
    // until then a failure drops a database table along with the folder.
    try {
      const retriever = new Retriever({ embedder, store });
      const progress = new Progress('embed', chunks.length, o.sink);
      for (let from = 0; from < chunks.length; from += 64) {
        await retriever.add(chunks.slice(from, from + 64));
        progress.update(Math.min(chunks.length, from + 64), `${docs.length} documents`);
      }
      writeAtomic(
        join(dir, INDEX_FILES.chunks),
        chunks.map((c) => `${JSON.stringify(c)}\n`).join(''),
      );
      writeAtomic(join(dir, INDEX_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
    } catch (e) {
      await discardIndexStore(store).catch(() => undefined);
      throw e;
    }
    await saveIndexStore(dir, store);
  });
  return manifest;
}

/**
 * The text of an index folder's file. A missing folder or `index.json` is "not an index folder";
 * a missing chunks file says to rebuild the index.
 */
function readIndexFile(dir: string, name: string): string {
  const notIndex = (why: string) =>
    new Error(`--index ${dir}: not an index folder written by "rag index" (${why})`);
  let text: string;
  try {
    text = readFileSync(join(dir, name), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !existsSync(dir)) throw notIndex('no such folder');
    if (code === 'ENOENT' && name === INDEX_FILES.manifest) throw notIndex(`no ${name}`);
    if (code === 'ENOENT')
      throw new Error(`--index ${dir}: ${name} is missing; rebuild the index with "rag index"`);
    throw new Error(`--index ${dir}: cannot read ${name} (${code ?? e})`);
  }
  return text;
}

/** A line of an index folder's JSON file, parsed; one that is not JSON says to rebuild the index. */
function parseIndexJson(dir: string, name: string, text: string, line?: number): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(
      `--index ${dir}: ${name}${line ? ` line ${line}` : ''} is not JSON (${(e as Error).message}); rebuild the index with "rag index"`,
    );
  }
}

/**
 * Opens an index folder: its models, the vectors in the store it records, and BM25 rebuilt from
 * the chunks, as a retriever of `o.method` — by default the method the models folder records as
 * tuned, with its dense weight (see {@link OpenIndexOptions}). A missing or corrupt file is an
 * error naming it. A database store connects at `databaseUrl` (default `DATABASE_URL`); call
 * `close` when done.
 *
 * @throws Error - no method given and none recorded, or a weighted method without a recorded
 *   dense weight: saying how to record one
 */
export async function openIndexFolder(
  dir: string,
  device: T.Device,
  o: OpenIndexOptions = {},
): Promise<OpenedIndex> {
  checkOptions('openIndexFolder', o, ['method', 'databaseUrl']);
  const { manifest: manifestFile, chunks: chunksFile } = INDEX_FILES;
  const manifest = parseIndexJson(
    dir,
    manifestFile,
    readIndexFile(dir, manifestFile),
  ) as IndexManifest;
  const chunks = readIndexFile(dir, chunksFile)
    .split('\n')
    .flatMap((line, i) => (line ? [parseIndexJson(dir, chunksFile, line, i + 1) as Chunk] : []));
  if ((manifest.format !== 1 && manifest.format !== 2) || chunks.length !== manifest.chunks)
    throw new Error(
      `--index ${dir}: ${INDEX_FILES.manifest} says format ${manifest.format} with ${manifest.chunks} chunks, ${INDEX_FILES.chunks} holds ${chunks.length}`,
    );
  const kind = manifest.store ?? 'hnsw';
  if (!Object.hasOwn(STORE_FILES, kind))
    throw new Error(
      `--index ${dir}: ${INDEX_FILES.manifest} names the store ${JSON.stringify(kind)}, expected one of ${Object.keys(STORE_FILES).join(', ')}`,
    );
  // Format 2 records the folder relative to the index, format 1 absolute: resolve reads both.
  const modelsDir = resolve(dir, manifest.models);
  if (manifest.modelsSha256) {
    const now = encoderFingerprint(modelsDir);
    const id = (sha: string) => sha.slice(0, 12);
    if (now !== manifest.modelsSha256)
      throw new Error(
        `--index ${dir}: built with the models ${id(manifest.modelsSha256)} of ${modelsDir}, which now holds ${id(now)} (retrained or replaced), whose embeddings would not match the index's vectors; rebuild the index with "rag index"`,
      );
  }
  const models = readRetrievalModels(modelsDir, device);
  const tuned = models.manifest.tuned;
  const method = o.method ?? tuned?.method;
  if (!method || (WEIGHTED_METHODS.includes(method) && !tuned))
    throw new Error(
      `${join(modelsDir, MODEL_FILES.manifest)} records no tuned ${method ? 'dense weight' : 'retrieval method'} (models trained before "rag train" recorded one): run "rag eval --bench BENCH --models ${modelsDir}" to choose it on the dev split and record it, or choose --method bm25, dense or hybrid-rrf`,
    );
  const denseWeight = WEIGHTED_METHODS.includes(method) ? tuned!.denseWeight : undefined;
  const store = await loadIndexStore(kind, dir, models.manifest.model.dModel, o);
  const retriever = methodRetriever(method, models, store, { denseWeight });
  try {
    await retriever.restore(chunks);
  } catch (e) {
    // Opening a pgvector index whose table was dropped creates it empty: drop it again, and say so.
    if (store instanceof PgVectorStore && chunks.length > 0 && (await store.size()) === 0) {
      await store.drop();
      throw new Error(
        `--index ${dir}: the PostgreSQL table ${store.table} holds no vectors (dropped since the index was built?); rebuild the index with "rag index"`,
        { cause: e },
      );
    }
    await closeIndexStore(store);
    throw new Error(`--index ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const close = () => closeIndexStore(store);
  return { retriever, models, manifest, method, denseWeight, close };
}
