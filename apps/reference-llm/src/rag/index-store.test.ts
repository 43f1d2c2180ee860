import { join } from 'node:path';
import { HnswIndex } from '@tessera/rag';
import { HnswlibStore } from '@tessera/rag/hnswlib';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from '../test-utils/fixtures.js';
import { createIndexStore, loadIndexStore, STORE_FILES, saveIndexStore } from './index-store.js';

const root = tempDir();
const records = Array.from({ length: 50 }, (_, i) => ({
  id: `c${i}`,
  vector: [Math.cos(i), Math.sin(i), 1 + (i % 7)],
}));

describe('index stores', () => {
  it.each(['hnsw', 'hnswlib'] as const)(
    '%s: made, saved and loaded with the same answers',
    async (kind) => {
      const made = await createIndexStore(kind, 3);
      expect(made.kind).toBe(kind);
      expect(made.store).toBeInstanceOf(kind === 'hnsw' ? HnswIndex : HnswlibStore);
      made.store.add(records);
      const path = join(root, STORE_FILES[kind]);
      await saveIndexStore(path, made.store);
      const loaded = await loadIndexStore(kind, path);
      expect(await loaded.search([1, 0, 2], 5)).toEqual(await made.store.search([1, 0, 2], 5));
    },
  );

  it('is hnswlib by default where hnswlib-node is installed', async () => {
    expect((await createIndexStore(undefined, 3)).kind).toBe('hnswlib');
  });

  it('without hnswlib-node: ours by default, and an error saying how to install it when asked', async () => {
    const path = join(root, 'kept.hnswlib');
    const store = await HnswlibStore.create({ dimension: 3 });
    store.add(records);
    await store.save(path);
    vi.doMock('hnswlib-node', () => {
      throw new Error("Cannot find package 'hnswlib-node'");
    });
    try {
      expect((await createIndexStore(undefined, 3)).kind).toBe('hnsw');
      await expect(createIndexStore('hnswlib', 3)).rejects.toThrow(
        '--store hnswlib: hnswlib-node is not installed; install it with "npm install hnswlib-node", or use --store hnsw',
      );
      await expect(loadIndexStore('hnswlib', path)).rejects.toThrow(
        `${path} is an hnswlib index, and hnswlib-node is not installed; install it with "npm install hnswlib-node"`,
      );
    } finally {
      vi.doUnmock('hnswlib-node');
    }
  });
});
