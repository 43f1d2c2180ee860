/**
 * @packageDocumentation
 * Retrieval-augmented generation in plain TypeScript: chunking with offsets, Lucene BM25, exact
 * and HNSW vector indexes, hybrid fusion, reranking, cited prompts and BEIR-style evaluation.
 * Models plug in through `Embedder` and `Reranker`; database stores are the subpath exports
 * `@tessera/rag/lancedb` and `@tessera/rag/pgvector`, files are `@tessera/rag/node`.
 */
export {
  type BeirDataset,
  type BeirDocument,
  beirDocumentText,
  parseBeirCorpus,
  parseBeirQrels,
  parseBeirQueries,
} from './beir.js';
export { Bm25Index, type Bm25Options, defaultAnalyzer } from './bm25.js';
export {
  type Chunk,
  type ChunkOptions,
  chunkDocuments,
  chunkText,
  DEFAULT_SEPARATORS,
} from './chunk.js';
export type { TextDocument } from './document.js';
export { FlatIndex, type FlatIndexOptions } from './flat-index.js';
export {
  type RrfOptions,
  reciprocalRankFusion,
  type WeightedFusionOptions,
  weightedScoreFusion,
} from './fusion.js';
export { type Hit, scoresFromDistances } from './hit.js';
export { HnswIndex, type HnswOptions } from './hnsw.js';
export { crc32, FORMAT_VERSION, IndexFileError, type IndexFileImage } from './index-file.js';
export {
  type EvaluateOptions,
  evaluateRun,
  ndcgAt,
  precisionAt,
  type Qrels,
  type Run,
  type RunEvaluation,
  rankedDocuments,
  recallAt,
  reciprocalRank,
} from './metrics.js';
export { type Embedder, embedTexts, type Reranker } from './models.js';
export {
  type AugmentedPrompt,
  augmentPrompt,
  type Citation,
  citedSources,
  DEFAULT_INSTRUCTIONS,
  type Passage,
  type PromptOptions,
} from './prompt.js';
export { readIndex } from './read-index.js';
export { rerank } from './rerank.js';
export { type RetrievedPassage, Retriever, type RetrieverOptions } from './retriever.js';
export type { TokenizerLike } from './tokenizer-like.js';
export {
  checkVector,
  METRICS,
  type Metric,
  type VectorHit,
  type VectorRecord,
  type VectorStore,
} from './vector-store.js';
