import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as T from '@tessera/tensor-webgpu';
import { fromHuggingFaceJson, type Tokenizer, toHuggingFaceJson } from '@tessera/tokenizer';
import type { TransformerConfig } from '@tessera/transformer';
import { writeAtomic } from '../atomic-write.js';
import { firstNonFinite } from '../finite.js';
import { BiEncoder, CrossEncoder, RETRIEVAL_SPECIALS } from './encoders.js';
import type { Method } from './retrieval-methods.js';

/** The files of a retrieval-models folder; the manifest is written last. */
export const MODEL_FILES = {
  manifest: 'retrieval.json',
  tokenizer: 'tokenizer.json',
  biEncoder: 'bi-encoder.safetensors',
  crossEncoder: 'cross-encoder.safetensors',
} as const;

/**
 * `retrieval.json`: the encoders' shape and what their training measured. Format 2: the encoders
 * read texts in their `retrievalText` form (format 1 read them as written).
 */
export interface RetrievalManifest {
  format: 2;
  /** Both encoders' transformer config (the same shape). */
  model: TransformerConfig;
  /** Free-form training record: settings, losses, the benchmark it was trained on. */
  training: Record<string, unknown>;
  /**
   * The retrieval `rag query` and `agent` use by default, chosen on a tuning split by `rag train`
   * (or by `rag eval`, for folders trained before it was recorded). Absent in older folders.
   */
  tuned?: TunedRetrieval;
}

/**
 * The retrieval chosen on a tuning split (questions neither encoder trained on): first the dense
 * weight of weighted fusion with the best nDCG@10, then, at that weight, the method with the
 * best nDCG@10.
 */
export interface TunedRetrieval {
  method: Method;
  /** The dense weight w of weighted fusion (BM25's is 1 − w). */
  denseWeight: number;
  /** The qrels split it was chosen on, and its number of questions. */
  split: string;
  questions: number;
  /** nDCG@10 of weighted fusion at each dense weight tried, in the order tried. */
  weights: { weight: number; ndcg: number }[];
  /** nDCG@10 of each method at the chosen weight. */
  methods: Record<Method, number>;
}

/** A trained bi-encoder and cross-encoder with their tokenizer. */
export interface RetrievalModels {
  tokenizer: Tokenizer;
  biEncoder: BiEncoder;
  crossEncoder: CrossEncoder;
  manifest: RetrievalManifest;
}

/** Writes the models to `dir` (created), each file atomically, the manifest last. */
export async function saveRetrievalModels(dir: string, m: RetrievalModels): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeAtomic(join(dir, MODEL_FILES.tokenizer), toHuggingFaceJson(m.tokenizer));
  writeAtomic(join(dir, MODEL_FILES.biEncoder), await m.biEncoder.save());
  writeAtomic(join(dir, MODEL_FILES.crossEncoder), await m.crossEncoder.save());
  writeAtomic(join(dir, MODEL_FILES.manifest), `${JSON.stringify(m.manifest, null, 2)}\n`);
}

/**
 * Records the tuned retrieval in the folder's `retrieval.json` (rewritten atomically); the
 * encoders' files are not touched, so indexes built with them stay valid.
 */
export function recordTuning(dir: string, tuned: TunedRetrieval): void {
  const manifest = readRetrievalManifest(dir);
  writeAtomic(
    join(dir, MODEL_FILES.manifest),
    `${JSON.stringify({ ...manifest, tuned }, null, 2)}\n`,
  );
}

/**
 * The SHA-256 (hex) of what a models folder's embeddings depend on: its tokenizer and bi-encoder
 * files (`rag eval` rewriting `retrieval.json`'s `tuned` leaves it as it was). An index records it
 * to notice models retrained or replaced under it.
 *
 * @throws Error - a file that cannot be read, naming it
 */
export function encoderFingerprint(dir: string): string {
  const hash = createHash('sha256');
  for (const name of [MODEL_FILES.tokenizer, MODEL_FILES.biEncoder])
    hash.update(name).update(readModelFile(dir, name));
  return hash.digest('hex');
}

/**
 * A file of a models folder. A missing folder or file is an error saying `rag train` writes it;
 * another failure names the file and the system's code.
 */
function readModelFile(dir: string, name: string): Buffer {
  const path = join(dir, name);
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !existsSync(dir))
      throw new Error(`${dir}: no such folder; "rag train --out ${dir}" writes a models folder`);
    if (code === 'ENOENT')
      throw new Error(
        `${path}: missing; "rag train" writes it (is ${dir} a folder written by "rag train"?)`,
      );
    throw new Error(`${path}: cannot read (${code ?? e})`);
  }
}

/** Reads and checks a models folder's `retrieval.json`. */
function readRetrievalManifest(dir: string): RetrievalManifest {
  const text = readModelFile(dir, MODEL_FILES.manifest).toString('utf8');
  let manifest: RetrievalManifest;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new Error(`${join(dir, MODEL_FILES.manifest)}: not JSON (${(e as Error).message})`);
  }
  if (manifest.format !== 2 || typeof manifest.model !== 'object')
    throw new Error(
      `${join(dir, MODEL_FILES.manifest)}: expected format 2 with a "model" config, got format ${JSON.stringify(manifest.format)}${(manifest.format as number) === 1 ? ' (encoders of an earlier version, which read texts as written: train them again with "rag train")' : ''}`,
    );
  return manifest;
}

/**
 * Reads a folder `saveRetrievalModels` wrote. A missing folder or file, a tokenizer without the
 * retrieval tokens, or weights that are corrupt, of another shape or not finite are errors naming
 * the file.
 */
export function readRetrievalModels(dir: string, device: T.Device): RetrievalModels {
  const read = (name: string) => readModelFile(dir, name);
  const manifest = readRetrievalManifest(dir);
  const tokenizer = fromHuggingFaceJson(read(MODEL_FILES.tokenizer).toString('utf8')) as Tokenizer;
  const missing = RETRIEVAL_SPECIALS.filter((t) => !(t in tokenizer.specialTokens));
  if (missing.length > 0)
    throw new Error(`${join(dir, MODEL_FILES.tokenizer)}: lacks the tokens ${missing.join(', ')}`);
  const load = <M extends BiEncoder | CrossEncoder>(model: M, file: string): M => {
    const bytes = new Uint8Array(read(file));
    try {
      model.load(bytes, { name: join(dir, file) });
    } catch (e) {
      model.dispose();
      throw new Error(
        `${join(dir, file)}: corrupt or not of the config's shape (${(e as Error).message})`,
      );
    }
    const bad = firstNonFinite(bytes);
    if (bad) throw new Error(`${join(dir, file)}: the weights are not finite (tensor ${bad})`);
    model.eval();
    return model;
  };
  return {
    tokenizer,
    biEncoder: load(new BiEncoder(manifest.model, device), MODEL_FILES.biEncoder),
    crossEncoder: load(new CrossEncoder(manifest.model, device), MODEL_FILES.crossEncoder),
    manifest,
  };
}
