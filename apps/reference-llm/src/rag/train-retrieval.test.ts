import { join } from 'node:path';
import { Bm25Index } from '@tessera/rag';
import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { lines, tempDir } from '../test-utils/fixtures.js';
import { PASSAGES, QUESTIONS, tinyEncoder } from '../test-utils/retrieval.js';
import { corpusPassages, embedPassages, tuneRetrieval } from './evaluate-retrieval.js';
import { readRetrievalModels, saveRetrievalModels } from './retrieval-models.js';
import { hardNegatives, trainRetrievalModels } from './train-retrieval.js';

const device = await T.createDevice({ backend: 'cpu' });
const data = {
  corpus: new Map(PASSAGES.map((text, i) => [`p${i}`, { title: '', text }])),
  queries: new Map(QUESTIONS.map((q, i) => [`q${i}`, q])),
  qrels: Object.fromEntries(QUESTIONS.map((_, i) => [`q${i}`, { [`p${i}`]: 1 }])),
};

describe('training the retrieval models', () => {
  it("takes BM25's best passages that are not relevant as hard negatives", () => {
    const bm25 = new Bm25Index();
    bm25.add(PASSAGES.map((text, i) => ({ id: `p${i}`, text })));
    const top = bm25.search('the king rides in the tower', 3).map((h) => h.id);
    expect(hardNegatives(bm25, 'the king rides in the tower', new Set([top[0]!]), 2, [])).toEqual(
      top.slice(1),
    );
    // BM25 finds only p0 for "london"; the rest come from the filler, skipping the relevant one.
    expect(hardNegatives(bm25, 'london', new Set(['p1']), 3, ['p1', 'p0', 'p5', 'p4'])).toEqual([
      'p0',
      'p5',
      'p4',
    ]);
  });

  it('trains both encoders on the training split and writes a folder that reads back', async () => {
    const out = join(tempDir(), 'models');
    const { maxSeqLen, dModel, layers, heads, seed } = tinyEncoder;
    const trained = await trainRetrievalModels(data, device, {
      model: { maxSeqLen, dModel, layers, heads, seed },
      vocabSize: 300,
      steps: 3,
      rerankSteps: 2,
      batchSize: 4,
      lr: 1e-3,
      rerankLr: 1e-3,
      temperature: 0.05,
      negatives: 2,
      seed: 1,
      tune: { split: 'dev', data },
      sink: lines(),
    });
    await saveRetrievalModels(out, trained);
    const read = readRetrievalModels(out, device);
    // The default retrieval chosen on the tuning split, as tuneRetrieval chooses it.
    const passages = corpusPassages(data);
    const want = await tuneRetrieval(
      data,
      'dev',
      passages,
      read,
      await embedPassages(passages, read, lines()),
      lines(),
    );
    expect(read.manifest.tuned).toEqual(want);
    expect(read.manifest.model).toMatchObject({ dModel, vocabSize: 300 });
    expect(read.manifest.training).toMatchObject({ pairs: 6 });
    expect(read.manifest.training.biEncoderLoss).toHaveLength(3);
    expect(read.manifest.training.rerankerLoss).toHaveLength(2);
  });

  it('needs relevant passages to learn from', async () => {
    await expect(trainRetrievalModels({ ...data, qrels: {} }, device, {} as never)).rejects.toThrow(
      'rag train: the training split judges no passage relevant',
    );
  });
});
