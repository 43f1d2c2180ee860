/**
 * Byte-pair encoding of one pre-tokenized piece. Two ways to rank a merge, one algorithm:
 * - tiktoken style: the merge a+b is allowed when a+b is a token, ranked by that token's id;
 * - Hugging Face style: ranked by the position of "a b" in the merges list (ids from the vocab).
 * The lowest-ranked adjacent pair is merged until no pair can be (tiktoken's `byte_pair_merge`).
 */
const SEP = '\u0100'; // cannot occur in a byte string (chars 0–255)

export class BytePairModel {
  /** Cache of piece → ids: text repeats words, and most pieces are seen many times. */
  private readonly cache = new Map<string, readonly number[]>();
  private static readonly CACHE_LIMIT = 100_000;

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

  private pairRank(piece: string, a: number, b: number, c: number): number {
    if (this.merges)
      return (
        this.merges.get(piece.slice(a, b) + SEP + piece.slice(b, c)) ?? Number.POSITIVE_INFINITY
      );
    return this.encoder.get(piece.slice(a, c)) ?? Number.POSITIVE_INFINITY;
  }

  /** Ids of one piece (a byte string). */
  encodePiece(piece: string): readonly number[] {
    const whole = this.merges && !this.ignoreMerges ? undefined : this.encoder.get(piece);
    if (whole !== undefined) return [whole];
    const cached = this.cache.get(piece);
    if (cached) return cached;
    const ids = this.merge(piece);
    if (this.cache.size >= BytePairModel.CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, ids);
    return ids;
  }

  private merge(piece: string): number[] {
    // starts[i] is where part i begins; ranks[i] ranks merging part i with part i + 1.
    const starts: number[] = [];
    for (let i = 0; i <= piece.length; i++) starts.push(i);
    const ranks: number[] = [];
    for (let i = 0; i + 2 < starts.length; i++)
      ranks.push(this.pairRank(piece, starts[i]!, starts[i + 1]!, starts[i + 2]!));
    while (ranks.length > 0) {
      let best = 0;
      for (let i = 1; i < ranks.length; i++) if (ranks[i]! < ranks[best]!) best = i;
      if (ranks[best] === Number.POSITIVE_INFINITY) break;
      starts.splice(best + 1, 1);
      ranks.splice(best, 1);
      if (best < ranks.length)
        ranks[best] =
          best + 2 < starts.length
            ? this.pairRank(piece, starts[best]!, starts[best + 1]!, starts[best + 2]!)
            : Number.POSITIVE_INFINITY;
      if (best > 0)
        ranks[best - 1] = this.pairRank(piece, starts[best - 1]!, starts[best]!, starts[best + 1]!);
    }
    const ids: number[] = [];
    for (let i = 0; i + 1 < starts.length; i++) {
      const part = piece.slice(starts[i]!, starts[i + 1]!);
      const id = this.encoder.get(part);
      if (id === undefined)
        throw new Error(
          `BPE: no token for byte sequence ${JSON.stringify(part)} (the vocabulary lacks a base byte)`,
        );
      ids.push(id);
    }
    return ids;
  }
}
