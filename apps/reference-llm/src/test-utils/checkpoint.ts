/**
 * A small checkpoint folder written by hand for the evaluation tests: a BPE tokenizer trained
 * on the start of the bundled text, a randomly initialised DecoderLM, and its config.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Device } from '@tessera/tensor-webgpu';
import { toHuggingFaceJson, trainBpe } from '@tessera/tokenizer';
import { DecoderLM, type TransformerConfig } from '@tessera/transformer';
import { FILES } from '../checkpoint.js';

/** The first `chars` characters of the bundled Shakespeare, written to a temporary file. */
export function textFile(chars: number): { path: string; text: string } {
  const text = readFileSync(
    new URL('../../data/tinyshakespeare.txt', import.meta.url),
    'utf8',
  ).slice(0, chars);
  const path = join(mkdtempSync(join(tmpdir(), 'tessera-text-')), 'text.txt');
  writeFileSync(path, text);
  return { path, text };
}

/** Writes a checkpoint of an untrained model with `maxSeqLen` positions; returns its folder. */
export async function writeCheckpoint(
  text: string,
  device: Device,
  maxSeqLen = 16,
): Promise<{ dir: string; config: TransformerConfig }> {
  const tokenizer = trainBpe([text], { vocabSize: 300 });
  const config: TransformerConfig = {
    vocabSize: tokenizer.vocabSize,
    dModel: 32,
    layers: 1,
    heads: 2,
    kvHeads: 1,
    maxSeqLen,
    seed: 4,
  };
  const model = new DecoderLM(config, device);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ckpt-'));
  writeFileSync(join(dir, FILES.model), await model.save());
  writeFileSync(join(dir, FILES.tokenizer), toHuggingFaceJson(tokenizer));
  writeFileSync(join(dir, FILES.config), JSON.stringify({ model: config }));
  model.dispose();
  return { dir, config };
}
