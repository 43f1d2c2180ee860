export { Bm25Index, type Bm25Options, defaultAnalyzer } from './bm25.js';
export { type Chunk, type ChunkOptions, chunkDocuments, chunkText, DEFAULT_SEPARATORS } from './chunk.js';
export type { TextDocument } from './document.js';
export type { TokenizerLike } from './tokenizer-like.js';
export {
  type EvaluateOptions,
  evaluateRun,
  ndcgAt,
  precisionAt,
  type Qrels,
  rankedDocuments,
  recallAt,
  reciprocalRank,
  type Run,
  type RunEvaluation,
} from './metrics.js';
