import { Retriever, type VectorStore } from '@tessera/rag';
import { asEmbedder, asReranker } from './adapters.js';
import type { RetrievalModels } from './retrieval-models.js';

/**
 * The retrieval methods, by the names `rag eval`'s table rows and `--method` use: BM25 alone, the
 * bi-encoder alone, both fused by reciprocal rank (k = 60, equal weights), both fused by
 * weighted min-max scores ([1 − w, w], Bruch et al. 2023), and that weighted fusion reranked by
 * the cross-encoder.
 */
export const METHODS = ['bm25', 'dense', 'hybrid-rrf', 'hybrid-weighted', 'hybrid-rerank'] as const;
export type Method = (typeof METHODS)[number];

/** The methods whose fusion needs the dense weight w. */
export const WEIGHTED_METHODS: readonly Method[] = ['hybrid-weighted', 'hybrid-rerank'];

/** Settings of {@link methodRetriever}. */
export interface MethodSettings {
  /** The dense weight w of weighted fusion, BM25's being 1 − w; needed by {@link WEIGHTED_METHODS}. */
  denseWeight?: number;
  /**
   * How deep each half (BM25, the bi-encoder) retrieves for `hybrid-rerank`: their union, up to
   * twice as many passages, is what the cross-encoder reorders. Default 20.
   */
  rerankDepth?: number;
}

/**
 * An empty retriever of `method` over the vectors in `store`, embedding queries (and added
 * passages) with the models' bi-encoder; fill it with `add` or `restore`.
 *
 * @throws RangeError - a weighted method without a dense weight in [0, 1]
 */
export function methodRetriever(
  method: Method,
  models: RetrievalModels,
  store: VectorStore,
  o: MethodSettings = {},
): Retriever {
  const embedder = asEmbedder(models.biEncoder, models.tokenizer);
  if (method === 'bm25') return new Retriever();
  if (method === 'dense') return new Retriever({ bm25: false, embedder, store });
  if (method === 'hybrid-rrf') return new Retriever({ embedder, store });
  const w = o.denseWeight;
  if (typeof w !== 'number' || !(w >= 0 && w <= 1))
    throw new RangeError(`${method}: the dense weight must be in [0, 1], got ${String(w)}`);
  const weighted = { embedder, store, fusion: 'weighted', weights: [1 - w, w] } as const;
  if (method === 'hybrid-weighted') return new Retriever(weighted);
  return new Retriever({
    ...weighted,
    reranker: asReranker(models.crossEncoder, models.tokenizer),
    candidates: o.rerankDepth ?? 20,
  });
}

/** How a method is described in output: its name, and the dense weight where it has one. */
export function describeMethod(method: Method, denseWeight?: number): string {
  return WEIGHTED_METHODS.includes(method) ? `${method} (dense weight ${denseWeight})` : method;
}
