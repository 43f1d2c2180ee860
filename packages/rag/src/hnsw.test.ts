import { FlatIndex, HnswIndex, IndexFileError, type Metric } from '@tessera/rag';
import { describe, expect, it } from 'vitest';
import { gaussianVectors } from './test-utils/vectors.js';

/** Share of the exact k nearest (by FlatIndex) that HNSW returns. */
function recall(hnsw: HnswIndex, flat: FlatIndex, queries: Float32Array[], k: number): number {
  let hits = 0;
  for (const q of queries) {
    const exact = new Set(flat.search(q, k).map((h) => h.id));
    for (const h of hnsw.search(q, k)) if (exact.has(h.id)) hits++;
  }
  return hits / (queries.length * k);
}

const queries = gaussianVectors(100, 24, 99, 'q').map((r) => r.vector as Float32Array);

describe('HnswIndex', () => {
  it.each(['cosine', 'dot', 'l2'] as Metric[])(
    'finds the nearest neighbours of FlatIndex with high recall (%s), with exact distances',
    (metric) => {
      const data = gaussianVectors(3000, 24, 5);
      const hnsw = new HnswIndex({
        dimension: 24,
        metric,
        m: 12,
        efConstruction: 100,
        efSearch: 64,
      });
      const flat = new FlatIndex({ dimension: 24, metric });
      hnsw.add(data);
      flat.add(data);
      expect(recall(hnsw, flat, queries, 10)).toBeGreaterThanOrEqual(0.95);
      // A larger ef can only help; ef = 1 still finds something.
      hnsw.efSearch = 200;
      expect(recall(hnsw, flat, queries, 10)).toBeGreaterThanOrEqual(0.99);
      // Distances of what is found are the metric's exact distances.
      const q = queries[0]!;
      const exact = new Map(flat.search(q, 3000).map((h) => [h.id, h.distance]));
      for (const h of hnsw.search(q, 10)) expect(h.distance).toBeCloseTo(exact.get(h.id)!, 5);
    },
  );

  it('draws layers with mL = 1/ln(M): about a fraction 1/M of nodes above layer 0', () => {
    const m = 8;
    const hnsw = new HnswIndex({ dimension: 2, metric: 'l2', m, efConstruction: 16 });
    hnsw.add(gaussianVectors(4000, 2, 11));
    const levels = (hnsw as unknown as { levels: Uint8Array }).levels.subarray(0, 4000);
    const above = levels.filter((l) => l >= 1).length / 4000;
    const above2 = levels.filter((l) => l >= 2).length / 4000;
    // P(level >= l) = M^-l under mL = 1/ln(M).
    expect(above).toBeGreaterThan(1 / m - 0.02);
    expect(above).toBeLessThan(1 / m + 0.02);
    expect(above2).toBeLessThan(3 / m ** 2);
  });

  it('keeps at most M links on upper layers and 2M on layer 0', () => {
    const hnsw = new HnswIndex({ dimension: 8, metric: 'l2', m: 4, efConstruction: 40 });
    hnsw.add(gaussianVectors(800, 8, 12));
    const inner = hnsw as unknown as {
      links0: Int32Array;
      upper: (Int32Array | null)[];
      levels: Uint8Array;
    };
    for (let v = 0; v < 800; v++) {
      expect(inner.links0[v * 9]).toBeLessThanOrEqual(8);
      for (let l = 0; l < inner.levels[v]!; l++)
        expect(inner.upper[v]![l * 5]).toBeLessThanOrEqual(4);
    }
  });

  it('never returns deleted ids, keeps recall after deletion and after compaction', () => {
    const data = gaussianVectors(3000, 24, 6);
    const hnsw = new HnswIndex({ dimension: 24, metric: 'cosine', m: 12, efConstruction: 100 });
    const flat = new FlatIndex({ dimension: 24, metric: 'cosine' });
    hnsw.add(data);
    flat.add(data);
    const gone = data.filter((_, i) => i % 3 === 0).map((r) => r.id);
    hnsw.delete(gone);
    flat.delete(gone);
    expect(hnsw.size()).toBe(2000);
    expect(hnsw.tombstones()).toBe(1000);
    const deleted = new Set(gone);
    for (const q of queries)
      for (const h of hnsw.search(q, 20)) expect(deleted.has(h.id)).toBe(false);
    expect(recall(hnsw, flat, queries, 10)).toBeGreaterThanOrEqual(0.95);
    const before = hnsw.memoryBytes();
    hnsw.compact();
    expect(hnsw.tombstones()).toBe(0);
    expect(hnsw.size()).toBe(2000);
    expect(recall(hnsw, flat, queries, 10)).toBeGreaterThanOrEqual(0.95);
    expect(hnsw.memoryBytes()).toBeLessThanOrEqual(before);
    // A deleted id can come back as a new node; deleting everything leaves an empty index.
    hnsw.add([{ id: gone[0]!, vector: data[0]!.vector }]);
    expect(hnsw.search(data[0]!.vector, 1)[0]!.id).toBe(gone[0]);
    hnsw.delete(data.map((r) => r.id));
    expect(hnsw.search(data[0]!.vector, 5)).toEqual([]);
    hnsw.compact();
    hnsw.add(data.slice(0, 10));
    expect(hnsw.search(data[4]!.vector, 1)[0]!.id).toBe('v4');
  });

  it('finds vectors added after every vector was deleted, before and after compaction', () => {
    const data = gaussianVectors(2000, 24, 7);
    const hnsw = new HnswIndex({ dimension: 24, metric: 'l2', m: 12, efConstruction: 100 });
    hnsw.add(data);
    hnsw.delete(data.map((r) => r.id));
    const fresh = gaussianVectors(500, 24, 8, 'n');
    hnsw.add(fresh);
    const flat = new FlatIndex({ dimension: 24, metric: 'l2' });
    flat.add(fresh);
    for (const r of fresh.slice(0, 100))
      expect(hnsw.search(r.vector as Float32Array, 1)[0]?.id).toBe(r.id);
    expect(recall(hnsw, flat, queries, 10)).toBeGreaterThanOrEqual(0.95);
    hnsw.compact();
    expect(hnsw.size()).toBe(500);
    expect(recall(hnsw, flat, queries, 10)).toBeGreaterThanOrEqual(0.95);
  });

  it('reads back exactly what it wrote, and then goes on as the original would', () => {
    const data = gaussianVectors(600, 8, 8);
    const a = new HnswIndex({ dimension: 8, metric: 'dot', m: 6, efConstruction: 30, seed: 3 });
    a.add(data.slice(0, 500));
    a.delete(['v7']);
    const b = HnswIndex.fromBytes(a.toBytes());
    // Same graph and the same random stream: adding the rest keeps them identical.
    a.add(data.slice(500));
    b.add(data.slice(500));
    expect(b.toBytes()).toEqual(a.toBytes());
    for (const q of queries.slice(0, 5))
      expect(b.search(q.subarray(0, 8), 5)).toEqual(a.search(q.subarray(0, 8), 5));
    expect(() => FlatIndex.fromBytes(a.toBytes(), 'hnsw.idx')).toThrow(IndexFileError);
    expect(() => FlatIndex.fromBytes(a.toBytes(), 'hnsw.idx')).toThrow(
      'hnsw.idx: holds a hnsw index, not a flat index',
    );
  });

  it('rejects bad options and bad records, adding nothing', () => {
    expect(() => new HnswIndex({ dimension: 4, m: 1 })).toThrow(/m must be an integer >= 2, got 1/);
    expect(() => new HnswIndex({ dimension: 4, efConstruction: 0 })).toThrow(
      /efConstruction must be an integer >= 1/,
    );
    expect(() => new HnswIndex({ dimension: 4, M: 16 } as never)).toThrow(/unknown option "M"/);
    const hnsw = new HnswIndex({ dimension: 4 });
    expect(() => {
      hnsw.efSearch = 0;
    }).toThrow(/efSearch must be an integer >= 1, got 0/);
    expect(() =>
      hnsw.add([
        { id: 'a', vector: [1, 0, 0, 0] },
        { id: 'b', vector: [1, 0, 0, Number.POSITIVE_INFINITY] },
      ]),
    ).toThrow(/records\[1\]\.vector\[3\] is Infinity/);
    expect(hnsw.size()).toBe(0);
    expect(hnsw.search([1, 0, 0, 0], 3)).toEqual([]);
  });
});
