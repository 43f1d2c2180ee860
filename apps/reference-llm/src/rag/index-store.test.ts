import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HnswIndex } from '@tessera/rag';
import { HnswlibStore } from '@tessera/rag/hnswlib';
import { LanceDbStore } from '@tessera/rag/lancedb';
import { PgVectorStore } from '@tessera/rag/pgvector';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../test-utils/fixtures.js';
import { startPglite } from '../test-utils/pglite.js';
import {
  closeIndexStore,
  createIndexStore,
  discardIndexStore,
  INDEX_STORES,
  loadIndexStore,
  STORE_FILES,
  saveIndexStore,
} from './index-store.js';

const root = tempDir();
const records = Array.from({ length: 50 }, (_, i) => ({
  id: `c${i}`,
  vector: [Math.cos(i), Math.sin(i), 1 + (i % 7)],
}));
let postgres: Awaited<ReturnType<typeof startPglite>>;
beforeAll(async () => {
  postgres = await startPglite();
}, 300_000);
afterAll(async () => postgres?.stop());

const classes = {
  hnsw: HnswIndex,
  hnswlib: HnswlibStore,
  lancedb: LanceDbStore,
  pgvector: PgVectorStore,
};
const fresh = (name: string) => {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
};

describe('index stores', () => {
  it.each(INDEX_STORES)('%s: made, kept and opened with the same answers', async (kind) => {
    const dir = fresh(kind);
    const connection = { databaseUrl: postgres.url };
    const made = await createIndexStore(kind, 3, dir, connection);
    expect(made.kind).toBe(kind);
    expect(made.store).toBeInstanceOf(classes[kind]);
    await made.store.add(records);
    const want = await made.store.search([1, 0, 2], 5);
    await saveIndexStore(dir, made.store);
    const loaded = await loadIndexStore(kind, dir, 3, connection);
    expect(await loaded.size()).toBe(50);
    expect((await loaded.search([1, 0, 2], 5)).map((h) => h.id)).toEqual(want.map((h) => h.id));
    await closeIndexStore(loaded);
  });

  it('pgvector: the folder records the table; a failed build drops it; no URL or a database that is down is a clear error', async () => {
    const dir = fresh('pg-table');
    const made = await createIndexStore('pgvector', 3, dir, { databaseUrl: postgres.url });
    await made.store.add(records);
    await saveIndexStore(dir, made.store);
    const { table } = JSON.parse(readFileSync(join(dir, STORE_FILES.pgvector), 'utf8'));
    expect(table).toMatch(/^tessera_rag_[0-9a-f]{12}$/);
    const pool = new pg.Pool({ connectionString: postgres.url, max: 1 });
    const exists = async (t: string) =>
      (await pool.query('SELECT to_regclass($1) AS t', [t])).rows[0].t !== null;
    try {
      expect(await exists(table)).toBe(true);
      const failed = await createIndexStore('pgvector', 3, fresh('pg-failed'), {
        databaseUrl: postgres.url,
      });
      await failed.store.add(records.slice(0, 5));
      await discardIndexStore(failed.store);
      expect(await exists((failed.store as PgVectorStore).table)).toBe(false);
    } finally {
      await pool.end();
    }
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      await expect(createIndexStore('pgvector', 3, fresh('pg-none'))).rejects.toThrow(
        '--store pgvector keeps its vectors in PostgreSQL: give --database-url postgres://… or set DATABASE_URL',
      );
      await expect(loadIndexStore('pgvector', dir, 3)).rejects.toThrow(
        `${dir} (table ${table}) keeps its vectors in PostgreSQL: give --database-url`,
      );
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
    // Nothing listens on port 1.
    await expect(
      loadIndexStore('pgvector', dir, 3, {
        databaseUrl: 'postgres://postgres@127.0.0.1:1/postgres',
      }),
    ).rejects.toThrow(/cannot reach PostgreSQL at 127\.0\.0\.1:1\/postgres \(ECONNREFUSED\)/);
  });

  it('names a missing LanceDB folder or pgvector record', async () => {
    const dir = fresh('empty');
    await expect(loadIndexStore('lancedb', dir, 3)).rejects.toThrow(
      `${join(dir, STORE_FILES.lancedb)}: missing (the LanceDB database "rag index" writes)`,
    );
    await expect(loadIndexStore('pgvector', dir, 3, { databaseUrl: postgres.url })).rejects.toThrow(
      `${join(dir, STORE_FILES.pgvector)}: cannot read the PostgreSQL table's name (ENOENT)`,
    );
  });

  it('is hnswlib by default where hnswlib-node is installed', async () => {
    expect((await createIndexStore(undefined, 3, fresh('default'))).kind).toBe('hnswlib');
  });

  it('without hnswlib-node: ours by default, and an error saying how to install it when asked', async () => {
    const dir = fresh('kept');
    const store = await HnswlibStore.create({ dimension: 3 });
    store.add(records);
    await saveIndexStore(dir, store);
    vi.doMock('hnswlib-node', () => {
      throw new Error("Cannot find package 'hnswlib-node'");
    });
    try {
      expect((await createIndexStore(undefined, 3, dir)).kind).toBe('hnsw');
      await expect(createIndexStore('hnswlib', 3, dir)).rejects.toThrow(
        '--store hnswlib: hnswlib-node is not installed; install it with "npm install hnswlib-node", or use --store hnsw',
      );
      await expect(loadIndexStore('hnswlib', dir, 3)).rejects.toThrow(
        `${join(dir, STORE_FILES.hnswlib)} is an hnswlib index, and hnswlib-node is not installed; install it with "npm install hnswlib-node"`,
      );
    } finally {
      vi.doUnmock('hnswlib-node');
    }
  });
});
