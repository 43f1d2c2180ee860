import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRESETS, type Preset } from '../presets.js';
import type { ProgressSink } from '../progress.js';

/** A miniature preset so the tests run in seconds. */
export const micro: Preset = {
  ...PRESETS.tiny!,
  name: 'micro',
  vocabSize: 300,
  model: { ...PRESETS.tiny!.model, dModel: 32, layers: 1, heads: 2, kvHeads: 1, maxSeqLen: 32 },
  batchSize: 4,
  seqLen: 32,
  warmupSteps: 2,
  evalInterval: 4,
};

/** A fresh temporary folder. */
export const tempDir = (name = 'tessera-run-') => mkdtempSync(join(tmpdir(), name));

/** A text file of `content` in a fresh folder; returns its path. */
export function textFile(content: string): string {
  const path = join(tempDir('tessera-data-'), 'text.txt');
  writeFileSync(path, content);
  return path;
}

/** The bundled text, shortened to `chars`. */
export const shakespeare = (chars: number) =>
  readFileSync(new URL('../../data/tinyshakespeare.txt', import.meta.url), 'utf8').slice(0, chars);

/** 60 kB of the bundled text, the data of most tests. */
export const data = textFile(shakespeare(60_000));

/** A progress sink that keeps the lines (no terminal). */
export function lines(): ProgressSink & { lines: string[] } {
  const out: string[] = [];
  return { lines: out, write: (text) => out.push(...text.split('\n').filter(Boolean)) };
}
