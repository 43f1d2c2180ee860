/**
 * A text encoder for dense retrieval: one embedding per text, all of the same length. The app
 * adapts a trained bi-encoder into this shape; any other model (an HTTP API, a local ONNX model)
 * plugs in the same way.
 */
export interface Embedder {
  /** Texts → one embedding each (`Float32Array` of the model's dimension), in input order. */
  embed(texts: readonly string[]): Float32Array[] | Promise<Float32Array[]>;
}

/**
 * A relevance scorer for reranking (a cross-encoder): one score per document, higher is more
 * relevant. The scale is the model's own; only the order matters to {@link rerank}.
 */
export interface Reranker {
  /** (query, documents) → one score per document, in input order. */
  score(query: string, docs: readonly string[]): number[] | Promise<number[]>;
}

/**
 * Calls `embedder.embed(texts)` and checks what comes back: one finite `Float32Array` per text,
 * each of `dimension` values when given (else all of the first one's length).
 *
 * @throws RangeError - a wrong count, a wrong length or a non-finite value, naming the text's index
 */
export async function embedTexts(
  embedder: Embedder,
  texts: readonly string[],
  dimension?: number,
): Promise<Float32Array[]> {
  const vectors = await embedder.embed(texts);
  if (!Array.isArray(vectors) || vectors.length !== texts.length)
    throw new RangeError(
      `embedTexts: the embedder returned ${Array.isArray(vectors) ? vectors.length : typeof vectors} embeddings for ${texts.length} texts`,
    );
  const want = dimension ?? vectors[0]?.length;
  vectors.forEach((v, i) => {
    if (!(v instanceof Float32Array))
      throw new TypeError(`embedTexts: embedding ${i} is not a Float32Array`);
    if (v.length !== want)
      throw new RangeError(
        `embedTexts: embedding ${i} has ${v.length} values, expected the dimension ${want}`,
      );
    if (!v.every(Number.isFinite))
      throw new RangeError(`embedTexts: embedding ${i} holds a non-finite value`);
  });
  return vectors;
}
