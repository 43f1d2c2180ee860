import { readFileSync } from 'node:fs';

/** The reference ids and pieces `fixtures/make-hf-fixtures.ts` recorded from Hugging Face's `tokenizers`. */
export interface HfExpected {
  encodings: {
    name: string;
    patch: Record<string, unknown>;
    cases: { text: string; ids: number[] }[];
  }[];
  pieces: { pattern: string; behavior: string; invert: boolean; text: string; pieces: string[] }[];
}

function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
}

export const hfBase: Record<string, unknown> = JSON.parse(fixture('hf-base-tokenizer.json'));
export const hfExpected: HfExpected = JSON.parse(fixture('hf-expected.json'));

/** The base tokenizer.json with a variant's fields replaced, as text. */
export function hfVariant(patch: Record<string, unknown>): string {
  return JSON.stringify({ ...hfBase, ...patch });
}
