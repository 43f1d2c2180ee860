import type * as T from '@tessera/tensor-webgpu';
import type { TransformerConfig } from '@tessera/transformer';
import { BiEncoder, CrossEncoder, retrievalTokenizer } from '../rag/encoders.js';
import type { RetrievalModels } from '../rag/retrieval-models.js';

/** Six short passages about different things, and a question whose words each passage holds. */
export const PASSAGES = [
  'the king rides to london with his army',
  'a fair maid sings of roses in the garden',
  'the ship sails through the storm at night',
  'my lord the horse is lame and cannot run',
  'bread and wine upon the table for the feast',
  'the old man counts his gold in the tower',
];
export const QUESTIONS = [
  'who rides to london',
  'who sings of roses',
  'what sails through the storm',
  'which horse cannot run',
  'what is on the table for the feast',
  'who counts gold in the tower',
];

/** A tokenizer learned from the passages (300 tokens, the specials included). */
export const tinyTokenizer = retrievalTokenizer([...PASSAGES, ...QUESTIONS], 300);

/** An encoder small enough to train in seconds on the CPU backend. */
export const tinyEncoder: TransformerConfig = {
  vocabSize: 300,
  dModel: 32,
  layers: 1,
  heads: 2,
  maxSeqLen: 48,
  seed: 3,
};

/**
 * Untrained retrieval models of the tiny shape (file and plumbing tests need no training),
 * initialised from `seed` (other seeds: other weights, as retrained models have).
 */
export function tinyModels(device: T.Device, seed = tinyEncoder.seed): RetrievalModels {
  const model = { ...tinyEncoder, seed };
  return {
    tokenizer: tinyTokenizer,
    biEncoder: new BiEncoder(model, device).eval(),
    crossEncoder: new CrossEncoder(model, device).eval(),
    manifest: { format: 2, model, training: { note: 'untrained' } },
  };
}
