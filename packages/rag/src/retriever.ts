import { Bm25Index } from './bm25.js';
import { checkDocuments, type TextDocument } from './document.js';
import { reciprocalRankFusion, weightedScoreFusion } from './fusion.js';
import { type Hit, scoresFromDistances } from './hit.js';
import { type Embedder, embedTexts, type Reranker } from './models.js';
import { checkOptions } from './options.js';
import type { Passage } from './prompt.js';
import { rerank } from './rerank.js';
import { checkK, type VectorStore } from './vector-store.js';

/** Options of {@link Retriever}. */
export interface RetrieverOptions {
  /** The sparse half; `false` for dense retrieval only. Default a new `Bm25Index()`. */
  bm25?: Bm25Index | false;
  /** Embeds passages and queries for the dense half (needs `store`). */
  embedder?: Embedder;
  /** Holds the passages' embeddings (`FlatIndex`, `HnswIndex`, LanceDB, pgvector). */
  store?: VectorStore;
  /** How the two rankings are fused: `'rrf'` (default) or `'weighted'` (min-max scores). */
  fusion?: 'rrf' | 'weighted';
  /** [sparse, dense] weights of the fusion. Default [1, 1]. */
  weights?: readonly [number, number];
  /** RRF's k. Default 60. */
  rrfK?: number;
  /** How deep each half retrieves before fusion. Default 50. */
  candidates?: number;
  /** Reorders the fused candidates by a cross-encoder's scores. */
  reranker?: Reranker;
}

/** A retrieved passage and its score (fused, or the reranker's). */
export type RetrievedPassage = Passage & Hit;

/**
 * Hybrid retrieval: BM25 and dense vectors side by side, fused by reciprocal rank (or weighted
 * scores), then optionally reranked. Passages are {@link TextDocument}s, usually `Chunk`s; their
 * source ids and spans come back with each result for citation.
 */
export class Retriever {
  private readonly bm25: Bm25Index | undefined;
  private readonly embedder: Embedder | undefined;
  private readonly store: VectorStore | undefined;
  private readonly reranker: Reranker | undefined;
  private readonly fusion: 'rrf' | 'weighted';
  private readonly weights: readonly [number, number];
  private readonly rrfK: number;
  private readonly candidates: number;
  private readonly passages = new Map<string, Passage>();

  /** @throws TypeError or RangeError - no retriever half, an embedder without a store, bad options */
  constructor(options: RetrieverOptions = {}) {
    const where = 'Retriever';
    checkOptions(where, options, [
      'bm25',
      'embedder',
      'store',
      'fusion',
      'weights',
      'rrfK',
      'candidates',
      'reranker',
    ]);
    this.bm25 = options.bm25 === false ? undefined : (options.bm25 ?? new Bm25Index());
    this.embedder = options.embedder;
    this.store = options.store;
    this.reranker = options.reranker;
    this.fusion = options.fusion ?? 'rrf';
    this.weights = options.weights ?? [1, 1];
    this.rrfK = options.rrfK ?? 60;
    this.candidates = checkK(where, options.candidates ?? 50);
    if (!this.embedder !== !this.store)
      throw new TypeError(`${where}: embedder and store go together (give both or neither)`);
    if (!this.bm25 && !this.store)
      throw new TypeError(`${where}: needs bm25, or an embedder and a store, or both`);
    if (this.fusion !== 'rrf' && this.fusion !== 'weighted')
      throw new RangeError(`${where}: fusion must be 'rrf' or 'weighted', got ${this.fusion}`);
  }

  size(): number {
    return this.passages.size;
  }

  /**
   * Indexes passages in both halves, all or nothing: ids and texts are checked, then the texts
   * embedded and checked, before either index changes.
   *
   * @throws TypeError or RangeError - a repeated or known id, an empty text, a bad embedding
   */
  async add(passages: readonly Passage[]): Promise<void> {
    checkDocuments('Retriever.add', passages, (id) => this.passages.has(id));
    if (this.store && this.embedder) {
      const vectors = await embedTexts(
        this.embedder,
        passages.map((p) => p.text),
        this.store.dimension,
      );
      await this.store.add(passages.map((p, i) => ({ id: p.id, vector: vectors[i]! })));
    }
    this.bm25?.add(passages);
    for (const p of passages) this.passages.set(p.id, p);
  }

  /**
   * Makes passages searchable whose embeddings the store already holds — an index saved with
   * `saveIndex` and loaded again, or a database table: they go into BM25 (rebuilt from their
   * text) and the passage table; nothing is embedded and the store is not written.
   *
   * @throws TypeError or RangeError - a repeated or known id, an empty text, or a store that does
   *   not hold one vector per passage (its size is not the passages known so far plus these)
   */
  async restore(passages: readonly Passage[]): Promise<void> {
    checkDocuments('Retriever.restore', passages, (id) => this.passages.has(id));
    const want = this.passages.size + passages.length;
    const held = this.store ? await this.store.size() : want;
    if (held !== want)
      throw new RangeError(
        `Retriever.restore: the store holds ${held} vectors, expected one per passage (${want})`,
      );
    this.bm25?.add(passages);
    for (const p of passages) this.passages.set(p.id, p);
  }

  /** Removes passages from both halves; unknown ids are ignored. */
  async delete(ids: readonly string[]): Promise<void> {
    await this.store?.delete(ids);
    this.bm25?.delete(ids);
    for (const id of ids) this.passages.delete(id);
  }

  /**
   * The `k` best passages for `query`, best first.
   *
   * @throws TypeError - `query` is not a string
   * @throws RangeError - `query` is empty or only whitespace, `k` is not a positive integer, or
   *   the query embeds badly
   */
  async search(query: string, k: number): Promise<RetrievedPassage[]> {
    if (typeof query !== 'string')
      throw new TypeError(`Retriever.search: query must be a string, got ${typeof query}`);
    if (query.trim() === '')
      throw new RangeError(
        `Retriever.search: query must be text that is not empty or only whitespace, got ${JSON.stringify(query)}`,
      );
    checkK('Retriever.search', k);
    const rankings: Hit[][] = [];
    const weights: number[] = [];
    if (this.bm25) {
      rankings.push(this.bm25.search(query, this.candidates));
      weights.push(this.weights[0]);
    }
    if (this.store && this.embedder) {
      const [q] = await embedTexts(this.embedder, [query], this.store.dimension);
      rankings.push(scoresFromDistances(await this.store.search(q!, this.candidates)));
      weights.push(this.weights[1]);
    }
    const fused =
      rankings.length === 1
        ? rankings[0]!
        : this.fusion === 'rrf'
          ? reciprocalRankFusion(rankings, { k: this.rrfK, weights })
          : weightedScoreFusion(rankings, { weights });
    const found = fused
      .filter((h) => this.passages.has(h.id))
      .map((h) => ({ ...this.passages.get(h.id)!, score: h.score }));
    if (!this.reranker) return found.slice(0, k);
    return rerank(this.reranker, query, found, k);
  }
}
