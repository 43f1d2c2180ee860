import { describe, expect, it } from 'vitest';
import { NodeHeap } from './node-heap.js';
import { SeededUniform } from './random.js';

describe('NodeHeap', () => {
  it('pops keys in ascending order while growing past its first capacity', () => {
    const rng = new SeededUniform(9);
    const heap = new NodeHeap();
    const keys = Array.from({ length: 500 }, () => rng.next());
    keys.forEach((k, i) => {
      heap.push(k, i);
    });
    const out: [number, number][] = [];
    while (heap.size > 0) {
      const key = heap.topKey();
      out.push([key, heap.pop()]);
    }
    expect(out.map(([k]) => k)).toEqual([...keys].sort((a, b) => a - b));
    for (const [k, node] of out) expect(keys[node]).toBe(k);
  });
});
