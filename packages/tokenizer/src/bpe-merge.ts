/**
 * The merge loop of byte-pair encoding over one piece of `n` symbols: while some adjacent pair
 * of parts can be merged, merge the pair of lowest rank, the leftmost one on ties. This is
 * tiktoken's `byte_pair_merge` and Hugging Face's `Word::merge_all` (without dropout); the rank
 * comes from the caller, so one loop serves tiktoken ranks and Hugging Face merge lists.
 *
 * Two implementations that must agree: `heapMerge`, O(n log n), and `scanMerge`, the O(n²)
 * textbook loop, kept as the test oracle and the benchmark baseline.
 */

/**
 * Rank of merging the part `[start, mid)` with the part `[mid, end)` (symbol indices); lower
 * merges first, `Infinity` when the pair cannot merge.
 */
export type PairRank = (start: number, mid: number, end: number) => number;

/**
 * A binary min-heap of candidate pairs `(rank, left, end)`, ordered by rank, then by `left`
 * (the leftmost pair wins ties). Entries are never updated in place: a pair that changed is
 * pushed anew and its old entry is recognised as stale when popped.
 */
class PairQueue {
  private readonly rank: number[] = [];
  private readonly left: number[] = [];
  private readonly end: number[] = [];
  /** The entry `pop` removed last. */
  poppedLeft = 0;
  poppedEnd = 0;

  get size(): number {
    return this.rank.length;
  }

  push(rank: number, left: number, end: number): void {
    // Sift up: move parents down until the new entry's place is found, then write it once.
    let i = this.rank.length; // writing index `length` appends
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const r = this.rank[parent]!;
      if (r < rank || (r === rank && this.left[parent]! < left)) break;
      this.move(parent, i);
      i = parent;
    }
    this.rank[i] = rank;
    this.left[i] = left;
    this.end[i] = end;
  }

  /** Removes the first entry into `poppedLeft` / `poppedEnd`. */
  pop(): void {
    this.poppedLeft = this.left[0]!;
    this.poppedEnd = this.end[0]!;
    const rank = this.rank.pop()!;
    const left = this.left.pop()!;
    const end = this.end.pop()!;
    const size = this.rank.length;
    if (size === 0) return;
    // Sift the last entry down from the root.
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && this.before(child + 1, child)) child++;
      const r = this.rank[child]!;
      if (rank < r || (rank === r && left < this.left[child]!)) break;
      this.move(child, i);
      i = child;
    }
    this.rank[i] = rank;
    this.left[i] = left;
    this.end[i] = end;
  }

  private before(i: number, j: number): boolean {
    const a = this.rank[i]!;
    const b = this.rank[j]!;
    return a < b || (a === b && this.left[i]! < this.left[j]!);
  }

  private move(from: number, to: number): void {
    this.rank[to] = this.rank[from]!;
    this.left[to] = this.left[from]!;
    this.end[to] = this.end[from]!;
  }
}

/**
 * Part boundaries after merging, in O(n log n): the parts are a doubly linked list over symbol
 * indices and the candidate pairs a min-heap. A heap entry `(left, end)` is stale once the part at
 * `left` was absorbed by its left neighbour or either part of the pair grew — every such change
 * moves the pair's end to the right, so an entry is live exactly when the part at `left` still
 * exists and its pair still ends at `end`.
 *
 * @returns the start of each part, then `n`
 */
export function heapMerge(n: number, rank: PairRank): number[] {
  // next[i] / prev[i]: start of the part after / before the part starting at i (next[i] = -1
  // once i starts no part). Index n stands for the end of the piece.
  const next: number[] = [];
  const prev: number[] = [];
  for (let i = 0; i <= n; i++) {
    next.push(i + 1);
    prev.push(i - 1);
  }
  const queue = new PairQueue();
  const consider = (start: number, mid: number, end: number) => {
    const r = rank(start, mid, end);
    if (r !== Number.POSITIVE_INFINITY) queue.push(r, start, end);
  };
  for (let i = 0; i + 1 < n; i++) consider(i, i + 1, i + 2);
  while (queue.size > 0) {
    queue.pop();
    const left = queue.poppedLeft;
    const end = queue.poppedEnd;
    const mid = next[left]!;
    if (mid < 0 || mid >= n || next[mid] !== end) continue; // stale
    next[left] = end;
    prev[end] = left;
    next[mid] = -1;
    if (end < n) consider(left, end, next[end]!);
    if (left > 0) consider(prev[left]!, left, end);
  }
  const bounds: number[] = [];
  for (let i = 0; i < n; i = next[i]!) bounds.push(i);
  bounds.push(n);
  return bounds;
}

/**
 * Part boundaries after merging, in O(n²): scan every pair for the lowest rank, merge it, repeat.
 * The oracle `heapMerge` is tested against.
 *
 * @returns the start of each part, then `n`
 */
export function scanMerge(n: number, rank: PairRank): number[] {
  const bounds: number[] = [];
  for (let i = 0; i <= n; i++) bounds.push(i);
  // ranks[i] ranks merging part i with part i + 1.
  const ranks: number[] = [];
  for (let i = 0; i + 2 < bounds.length; i++) ranks.push(rank(i, i + 1, i + 2));
  while (ranks.length > 0) {
    let best = 0;
    for (let i = 1; i < ranks.length; i++) if (ranks[i]! < ranks[best]!) best = i;
    if (ranks[best] === Number.POSITIVE_INFINITY) break;
    bounds.splice(best + 1, 1);
    ranks.splice(best, 1);
    if (best < ranks.length)
      ranks[best] = rank(bounds[best]!, bounds[best + 1]!, bounds[best + 2]!);
    if (best > 0) ranks[best - 1] = rank(bounds[best - 1]!, bounds[best]!, bounds[best + 1]!);
  }
  return bounds;
}
