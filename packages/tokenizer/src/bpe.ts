import { heapMerge } from './bpe-merge.js';

/**
 * Byte-pair encoding of one pre-tokenized piece. Two ways to rank a merge, one algorithm
 * (`heapMerge`, O(n log n) in the piece's length):
 * - tiktoken style: the merge a+b is allowed when a+b is a token, ranked by that token's id;
 * - Hugging Face style: ranked by the position of "a b" in the merges list (ids from the vocab).
 */
const SEP = '\u0100'; // cannot occur in a byte string (chars 0–255)

export class BytePairModel {
  constructor(
    /** Byte string → id, for every token. */
    readonly encoder: ReadonlyMap<string, number>,
    /** "a\u0100b" → merge priority (Hugging Face); absent for tiktoken-style ranks. */
    readonly merges?: ReadonlyMap<string, number>,
    /** With merges: take a piece that is itself a token whole (Hugging Face's `ignore_merges`). */
    readonly ignoreMerges = false,
  ) {}

  static mergeKey(a: string, b: string): string {
    return a + SEP + b;
  }

  /** Ids of one piece (a byte string). */
  encodePiece(piece: string): number[] {
    if (!this.merges || this.ignoreMerges) {
      const whole = this.encoder.get(piece);
      if (whole !== undefined) return [whole];
    }
    const { encoder, merges } = this;
    const bounds = heapMerge(
      piece.length,
      merges
        ? (a, b, c) =>
            merges.get(piece.slice(a, b) + SEP + piece.slice(b, c)) ?? Number.POSITIVE_INFINITY
        : (a, _, c) => encoder.get(piece.slice(a, c)) ?? Number.POSITIVE_INFINITY,
    );
    const ids: number[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const part = piece.slice(bounds[i]!, bounds[i + 1]!);
      const id = encoder.get(part);
      if (id === undefined)
        throw new Error(
          `BPE: no token for byte sequence ${JSON.stringify(part)} (the vocabulary lacks a base byte)`,
        );
      ids.push(id);
    }
    return ids;
  }
}
