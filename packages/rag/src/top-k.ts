/**
 * The `k` smallest (key, item) pairs seen so far: a bounded binary max-heap on typed arrays, so
 * that scanning n keys costs O(n log k) and allocates nothing per key.
 */
export class TopK {
  readonly keys: Float64Array;
  readonly items: Int32Array;
  size = 0;

  constructor(readonly k: number) {
    this.keys = new Float64Array(k);
    this.items = new Int32Array(k);
  }

  /** The largest key kept (the one a new key must beat once full). */
  worst(): number {
    return this.size < this.k ? Number.POSITIVE_INFINITY : this.keys[0]!;
  }

  /** Offers a pair; kept when fewer than k are held or `key` beats the worst. */
  push(key: number, item: number): void {
    const { keys, items } = this;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (keys[p]! >= key) break;
        keys[i] = keys[p]!;
        items[i] = items[p]!;
        i = p;
      }
      keys[i] = key;
      items[i] = item;
    } else if (key < keys[0]!) {
      siftDown(keys, items, this.size, key, item);
    }
  }

  /** The kept pairs, smallest key first (ties by item, ascending). */
  sorted(): { key: number; item: number }[] {
    const out = [];
    for (let i = 0; i < this.size; i++) out.push({ key: this.keys[i]!, item: this.items[i]! });
    return out.sort((a, b) => a.key - b.key || a.item - b.item);
  }
}

/** Puts (key, item) at the root of a max-heap of `size` and sifts it down. */
function siftDown(keys: Float64Array, items: Int32Array, size: number, key: number, item: number) {
  let i = 0;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && keys[c + 1]! > keys[c]!) c++;
    if (keys[c]! <= key) break;
    keys[i] = keys[c]!;
    items[i] = items[c]!;
    i = c;
  }
  keys[i] = key;
  items[i] = item;
}
