import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlatIndex, HnswIndex, IndexFileError, type Metric } from '@tessera/rag';
import { HnswlibStore } from '@tessera/rag/hnswlib';
import { saveIndex } from '@tessera/rag/node';
import { describe, expect, it } from 'vitest';
import { gaussianVectors } from './test-utils/vectors.js';

describe('HnswlibStore', () => {
  it.each(['cosine', 'dot', 'l2'] as Metric[])(
    'finds what FlatIndex finds (%s), with its distances; never a deleted id',
    async (metric) => {
      const data = gaussianVectors(3000, 24, 5);
      const store = await HnswlibStore.create({ dimension: 24, metric, m: 12 });
      const flat = new FlatIndex({ dimension: 24, metric });
      expect(store.search(data[0]!.vector, 3)).toEqual([]);
      store.add(data.slice(0, 1000)); // past the first capacity: the index grows
      store.add(data.slice(1000));
      flat.add(data);
      const gone = data.filter((_, i) => i % 4 === 0).map((r) => r.id);
      store.delete([...gone, 'missing']);
      flat.delete(gone);
      expect(store.size()).toBe(2250);
      const deleted = new Set(gone);
      let hits = 0;
      const queries = gaussianVectors(50, 24, 9, 'q');
      for (const { vector: q } of queries) {
        const got = store.search(q, 10);
        const want = new Map(flat.search(q, 3000).map((h) => [h.id, h.distance]));
        const exact = new Set(flat.search(q, 10).map((h) => h.id));
        for (const h of got) {
          expect(deleted.has(h.id)).toBe(false);
          expect(h.distance).toBeCloseTo(want.get(h.id)!, 4);
          if (exact.has(h.id)) hits++;
        }
      }
      expect(hits / (10 * queries.length)).toBeGreaterThanOrEqual(0.95);
    },
  );

  it('refuses bad options and records, naming them', async () => {
    await expect(HnswlibStore.create({ dimension: 4, efSearch: 0 })).rejects.toThrow(
      'HnswlibStore.create: efSearch must be a positive integer, got 0',
    );
    await expect(HnswlibStore.create({ dimension: 4, ef: 10 } as never)).rejects.toThrow(/ef/);
    const store = await HnswlibStore.create({ dimension: 4, metric: 'l2' });
    store.add([{ id: 'a', vector: [1, 2, 3, 4] }]);
    expect(() => store.add([{ id: 'a', vector: [1, 2, 3, 4] }])).toThrow(/already stored/);
    expect(() => store.add([{ id: 'b', vector: [1, 2, 3] }])).toThrow(
      'records[0].vector has 3 values, expected the dimension 4',
    );
    expect(() => store.search([1, 2], 1)).toThrow('query has 2 values, expected the dimension 4');
    expect(store.search([1, 2, 3, 4], 5)).toEqual([{ id: 'a', distance: 0 }]);
  });

  it('saves and loads the same graph, ids and deletions', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hnswlib-'));
    const data = gaussianVectors(500, 16, 3);
    const store = await HnswlibStore.create({ dimension: 16, metric: 'l2', efSearch: 32 });
    store.add(data);
    store.delete(['v0', 'v1']);
    store.add([{ ...data[1]!, id: 'v1' }]); // a deleted id stored again
    const path = join(dir, 'vectors.hnswlib');
    await store.save(path);
    const loaded = await HnswlibStore.load(path);
    expect(loaded.size()).toBe(499);
    for (const { vector } of gaussianVectors(20, 16, 4, 'q'))
      expect(loaded.search(vector, 10)).toEqual(store.search(vector, 10));
    expect(loaded.search(data[0]!.vector, 1)[0]!.id).not.toBe('v0');
    expect(loaded.search(data[1]!.vector, 1)).toEqual([{ id: 'v1', distance: 0 }]);
    loaded.add([{ id: 'new', vector: data[0]!.vector }]);
    expect(loaded.search(data[0]!.vector, 1)).toEqual([{ id: 'new', distance: 0 }]);
  });

  it('names a missing, corrupt or other kind of file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hnswlib-'));
    const path = join(dir, 'vectors.hnswlib');
    await expect(HnswlibStore.load(path)).rejects.toThrow(`${path}: no index file there`);
    const store = await HnswlibStore.create({ dimension: 4 });
    store.add([{ id: 'a', vector: [1, 2, 3, 4] }]);
    await store.save(path);
    const bytes = readFileSync(path);
    bytes[bytes.length - 10]! ^= 1;
    writeFileSync(path, bytes);
    await expect(HnswlibStore.load(path)).rejects.toThrow(IndexFileError);
    await expect(HnswlibStore.load(path)).rejects.toThrow('checksum mismatch');
    const ours = new HnswIndex({ dimension: 4 });
    ours.add([{ id: 'a', vector: [1, 2, 3, 4] }]);
    await saveIndex(path, ours);
    await expect(HnswlibStore.load(path)).rejects.toThrow(
      `${path}: a "hnsw" index, not an hnswlib one (read it with loadIndex from @tessera/rag/node)`,
    );
  });
});
