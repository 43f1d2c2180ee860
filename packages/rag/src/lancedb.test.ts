import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlatIndex, type Metric } from '@tessera/rag';
import { LanceDbStore } from '@tessera/rag/lancedb';
import { afterAll, describe, expect, it } from 'vitest';
import { gaussianVectors } from './test-utils/vectors.js';

const root = mkdtempSync(join(tmpdir(), 'rag-lancedb-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('LanceDbStore', () => {
  it.each(['cosine', 'dot', 'l2'] as Metric[])(
    'returns what FlatIndex returns on the same data (%s), and again after reopening',
    async (metric) => {
      const uri = join(root, metric);
      const data = gaussianVectors(300, 16, 7);
      const store = await LanceDbStore.open({ uri, dimension: 16, metric });
      const flat = new FlatIndex({ dimension: 16, metric });
      expect(await store.search(data[0]!.vector, 3)).toEqual([]); // no table yet
      await store.add(data.slice(0, 100));
      await store.add(data.slice(100));
      flat.add(data);
      const queries = gaussianVectors(15, 16, 8, 'q');
      const compare = async (s: LanceDbStore) => {
        for (const { vector: q } of queries) {
          const got = await s.search(q, 10);
          const want = flat.search(q, 10);
          expect(got.map((h) => h.id)).toEqual(want.map((h) => h.id));
          for (const [i, h] of got.entries()) expect(h.distance).toBeCloseTo(want[i]!.distance, 4);
        }
      };
      await compare(store);
      await store.delete(['v0', 'v5', 'missing']);
      flat.delete(['v0', 'v5']);
      expect(await store.size()).toBe(298);
      await store.close();
      const reopened = await LanceDbStore.open({ uri, dimension: 16, metric });
      expect(await reopened.size()).toBe(298);
      await compare(reopened);
      await reopened.close();
    },
  );

  it('checks every record before writing: wrong dimension, repeated and stored ids', async () => {
    const store = await LanceDbStore.open({ uri: join(root, 'bad'), dimension: 4, metric: 'l2' });
    await store.add([{ id: "it's", vector: [1, 0, 0, 0] }]);
    await expect(
      store.add([
        { id: 'b', vector: [0, 1, 0, 0] },
        { id: 'c', vector: [0, 1, 0] },
      ]),
    ).rejects.toThrow(/records\[1\]\.vector has 3 values, expected the dimension 4/);
    await expect(
      store.add([
        { id: 'b', vector: [0, 1, 0, 0] },
        { id: "it's", vector: [0, 0, 1, 0] },
      ]),
    ).rejects.toThrow(/id "it's" is already stored/);
    await expect(store.add([{ id: 'n', vector: [0, Number.NaN, 0, 0] }])).rejects.toThrow(
      /records\[0\]\.vector\[1\] is NaN, expected a finite number/,
    );
    expect(await store.size()).toBe(1);
    await store.delete(["it's"]);
    expect(await store.size()).toBe(0);
    await store.close();
    await expect(LanceDbStore.open({ uri: join(root, 'bad'), dimension: 8 })).rejects.toThrow(
      /table vectors holds vectors of dimension 4, expected 8/,
    );
  });

  it('a database it cannot open is a clear StoreConnectionError', async () => {
    const file = join(root, 'not-a-folder');
    writeFileSync(file, 'x');
    const error = await LanceDbStore.open({ uri: join(file, 'db'), dimension: 4 }).catch(
      (e: Error) => e,
    );
    expect((error as Error).name).toBe('StoreConnectionError');
    expect((error as Error).message).toMatch(
      /LanceDbStore.open: cannot open the LanceDB database at .*not-a-folder\/db \(.*Not a directory/,
    );
  });
});
