import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '@tessera/tensor-webgpu';
import { toHuggingFaceJson, trainBpe } from '@tessera/tokenizer';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-utils/fixtures.js';
import { PASSAGES, tinyModels } from '../test-utils/retrieval.js';
import { asEmbedder, asReranker } from './adapters.js';
import {
  MODEL_FILES,
  readRetrievalModels,
  recordTuning,
  saveRetrievalModels,
  type TunedRetrieval,
} from './retrieval-models.js';

const device = await T.createDevice({ backend: 'cpu' });

describe('retrieval models folder', () => {
  it('reads back models that embed and score exactly as the saved ones', async () => {
    const dir = join(tempDir(), 'models');
    const saved = tinyModels(device);
    await saveRetrievalModels(dir, saved);
    const read = readRetrievalModels(dir, device);
    expect(read.manifest).toEqual(saved.manifest);
    expect(await asEmbedder(read.biEncoder, read.tokenizer).embed(PASSAGES)).toEqual(
      await asEmbedder(saved.biEncoder, saved.tokenizer).embed(PASSAGES),
    );
    expect(await asReranker(read.crossEncoder, read.tokenizer).score('who', PASSAGES)).toEqual(
      await asReranker(saved.crossEncoder, saved.tokenizer).score('who', PASSAGES),
    );
  });

  it('records a tuned retrieval in the manifest, leaving the encoders as they are', async () => {
    const dir = join(tempDir(), 'models');
    const saved = tinyModels(device);
    await saveRetrievalModels(dir, saved);
    const weights = readFileSync(join(dir, MODEL_FILES.biEncoder));
    const tuned: TunedRetrieval = {
      method: 'bm25',
      denseWeight: 0.2,
      split: 'dev',
      questions: 3,
      weights: [{ weight: 0.2, ndcg: 0.5 }],
      methods: {
        bm25: 0.6,
        dense: 0.1,
        'hybrid-rrf': 0.4,
        'hybrid-weighted': 0.5,
        'hybrid-rerank': 0,
      },
    };
    recordTuning(dir, tuned);
    expect(readRetrievalModels(dir, device).manifest).toEqual({ ...saved.manifest, tuned });
    expect(readFileSync(join(dir, MODEL_FILES.biEncoder))).toEqual(weights);
  });

  it('names the file that is missing, corrupt or not of the retrieval tokenizer', async () => {
    const dir = join(tempDir(), 'models');
    expect(() => readRetrievalModels(dir, device)).toThrow(
      new RegExp(`^${dir}: no such folder; "rag train --out ${dir}" writes a models folder$`),
    );
    await saveRetrievalModels(dir, tinyModels(device));
    // A missing file is missing (it used to be reported as "not JSON").
    for (const name of [MODEL_FILES.manifest, MODEL_FILES.biEncoder]) {
      const kept = readFileSync(join(dir, name));
      unlinkSync(join(dir, name));
      expect(() => readRetrievalModels(dir, device)).toThrow(
        new RegExp(
          `^${join(dir, name)}: missing; "rag train" writes it \\(is ${dir} a folder written by "rag train"\\?\\)$`,
        ),
      );
      writeFileSync(join(dir, name), kept);
    }
    writeFileSync(join(dir, MODEL_FILES.manifest), '{"format": 2,');
    expect(() => readRetrievalModels(dir, device)).toThrow(
      new RegExp(`^${join(dir, MODEL_FILES.manifest)}: not JSON \\(`),
    );
    await saveRetrievalModels(dir, tinyModels(device));
    writeFileSync(join(dir, MODEL_FILES.crossEncoder), 'not safetensors');
    expect(() => readRetrievalModels(dir, device)).toThrow(
      new RegExp(`^${join(dir, MODEL_FILES.crossEncoder)}: corrupt or not of the config's shape`),
    );
    writeFileSync(
      join(dir, MODEL_FILES.tokenizer),
      toHuggingFaceJson(trainBpe(['abc'], { vocabSize: 257 })),
    );
    expect(() => readRetrievalModels(dir, device)).toThrow(
      `${join(dir, MODEL_FILES.tokenizer)}: lacks the tokens [PAD], [CLS], [SEP]`,
    );
    writeFileSync(join(dir, MODEL_FILES.manifest), '{"format": 1, "model": {}}');
    expect(() => readRetrievalModels(dir, device)).toThrow(
      'encoders of an earlier version, which read texts as written: train them again with "rag train"',
    );
    writeFileSync(join(dir, MODEL_FILES.manifest), '{"format": 3}');
    expect(() => readRetrievalModels(dir, device)).toThrow(
      `${join(dir, MODEL_FILES.manifest)}: expected format 2 with a "model" config, got format 3`,
    );
  });
});
