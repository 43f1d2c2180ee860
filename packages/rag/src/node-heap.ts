/**
 * A binary min-heap of (key, node) pairs on growable typed arrays: HNSW's candidate and result
 * queues, reused across searches so that a query allocates nothing. A max-heap is the same heap
 * fed negated keys.
 */
export class NodeHeap {
  private keys = new Float64Array(64);
  private nodes = new Int32Array(64);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  topKey(): number {
    return this.keys[0]!;
  }

  topNode(): number {
    return this.nodes[0]!;
  }

  push(key: number, node: number): void {
    if (this.size === this.keys.length) this.grow();
    const { keys, nodes } = this;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p]! <= key) break;
      keys[i] = keys[p]!;
      nodes[i] = nodes[p]!;
      i = p;
    }
    keys[i] = key;
    nodes[i] = node;
  }

  /** Removes the smallest pair and returns its node (read its key with `topKey` first). */
  pop(): number {
    const { keys, nodes } = this;
    const top = nodes[0]!;
    const n = --this.size;
    if (n === 0) return top;
    const key = keys[n]!;
    const node = nodes[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && keys[c + 1]! < keys[c]!) c++;
      if (keys[c]! >= key) break;
      keys[i] = keys[c]!;
      nodes[i] = nodes[c]!;
      i = c;
    }
    keys[i] = key;
    nodes[i] = node;
    return top;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    const nodes = new Int32Array(this.nodes.length * 2);
    keys.set(this.keys);
    nodes.set(this.nodes);
    this.keys = keys;
    this.nodes = nodes;
  }
}
