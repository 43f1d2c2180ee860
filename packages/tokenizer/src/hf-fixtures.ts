import { readFileSync } from 'node:fs';
import type { BertNormalizerOptions } from './bert.js';

/** Text Hugging Face decodes ids to, with and without `skip_special_tokens`. */
export interface HfDecoded {
  ids: number[];
  decoded: string;
  decodedSkippingSpecial: string;
}

/** One variant of a base tokenizer.json, as `fixtures/make-hf-fixtures.ts` recorded it. */
export interface HfVariant {
  name: string;
  /** Fields that replace the base file's. */
  patch: Record<string, unknown>;
  /** The id Hugging Face gives each added token's content. */
  addedIds: Record<string, number>;
  /** Each text's ids (no template) and their decoding; `withSpecial` where a template adds tokens. */
  cases: (HfDecoded & { text: string; withSpecial?: HfDecoded })[];
  /** More id lists decoded. */
  decodes: HfDecoded[];
}

/**
 * One field of a base tokenizer.json changed (or removed) and whether Hugging Face loads the
 * result: `path` is written as this package's errors name fields (`model.vocab["a"]`,
 * `added_tokens[0].id`).
 */
export interface HfLoadProbe {
  base: 'bpe' | 'bert';
  path: string;
  /** The new value; absent when the field is removed. */
  value?: unknown;
  remove?: true;
  accepted: boolean;
  /** Hugging Face's error, where it refused. */
  error?: string;
}

/** The reference values `fixtures/make-hf-fixtures.ts` recorded from Hugging Face's `tokenizers`. */
export interface HfExpected {
  encodings: HfVariant[];
  pieces: { pattern: string; behavior: string; invert: boolean; text: string; pieces: string[] }[];
}

/** The same for BERT's WordPiece, plus what the BertNormalizer and BertPreTokenizer make of texts. */
export interface BertExpected {
  encodings: HfVariant[];
  normalized: { options: BertNormalizerOptions; texts: [string, string][] }[];
  preTokenized: [string, string[]][];
}

function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
}

export const hfBase: Record<string, unknown> = JSON.parse(fixture('hf-base-tokenizer.json'));
export const hfExpected: HfExpected = JSON.parse(fixture('hf-expected.json'));
export const bertBase: Record<string, unknown> = JSON.parse(fixture('bert-tokenizer.json'));
export const bertExpected: BertExpected = JSON.parse(fixture('bert-expected.json'));
export const hfLoadExpected: { probes: HfLoadProbe[] } = JSON.parse(
  fixture('hf-load-expected.json'),
);

/** The base tokenizer.json with a variant's fields replaced, as text. */
export function hfVariant(patch: Record<string, unknown>): string {
  return JSON.stringify({ ...hfBase, ...patch });
}

/** The BERT tokenizer.json (written by Hugging Face) with a variant's fields replaced, as text. */
export function bertVariant(patch: Record<string, unknown>): string {
  return JSON.stringify({ ...bertBase, ...patch });
}
