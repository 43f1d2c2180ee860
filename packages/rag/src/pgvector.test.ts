import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { FlatIndex, type Metric } from '@tessera/rag';
import { PgVectorStore } from '@tessera/rag/pgvector';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gaussianVectors } from './test-utils/vectors.js';

/**
 * The adapter runs through the real `pg` client over TCP: against PGlite (Postgres 18 in
 * WebAssembly, with pgvector) behind its socket server, and against DATABASE_URL when one is set.
 */
let db: PGlite;
let server: PGLiteSocketServer;
let pgliteUrl: string;

// Starting Postgres in WebAssembly compiles a large module: seconds on an idle machine, a minute
// or more on a loaded one.
beforeAll(async () => {
  db = await PGlite.create({ extensions: { vector } });
  server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 16 });
  await server.start();
  pgliteUrl = `postgres://postgres@${server.getServerConn()}/postgres`;
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await db?.close();
});

const targets = [
  { name: 'PGlite + pgvector', url: () => pgliteUrl },
  ...(process.env.DATABASE_URL
    ? [{ name: 'DATABASE_URL', url: () => process.env.DATABASE_URL! }]
    : []),
];

describe.each(targets)('PgVectorStore on $name', ({ url }) => {
  let n = 0;
  const table = () => `rag_test_${process.pid}_${n++}`;

  it.each(['cosine', 'dot', 'l2'] as Metric[])(
    'returns what FlatIndex returns on the same data (%s)',
    async (metric) => {
      const data = gaussianVectors(300, 16, 7);
      const store = await PgVectorStore.connect({
        connectionString: url(),
        table: table(),
        dimension: 16,
        metric,
      });
      const flat = new FlatIndex({ dimension: 16, metric });
      try {
        await store.add(data);
        flat.add(data);
        expect(await store.size()).toBe(300);
        for (const { vector: q } of gaussianVectors(15, 16, 8, 'q')) {
          const got = await store.search(q, 10);
          const want = flat.search(q, 10);
          expect(got.map((h) => h.id)).toEqual(want.map((h) => h.id));
          for (const [i, h] of got.entries()) expect(h.distance).toBeCloseTo(want[i]!.distance, 5);
        }
        await store.delete(['v0', 'v1', 'missing']);
        flat.delete(['v0', 'v1']);
        expect(await store.size()).toBe(298);
        const q = data[0]!.vector;
        expect((await store.search(q, 5)).map((h) => h.id)).toEqual(
          flat.search(q, 5).map((h) => h.id),
        );
      } finally {
        await store.close();
      }
    },
  );

  it('writes nothing from a bad batch and rejects duplicates and wrong dimensions', async () => {
    const name = table();
    const store = await PgVectorStore.connect({
      connectionString: url(),
      table: name,
      dimension: 4,
    });
    try {
      await store.add([{ id: 'a', vector: [1, 0, 0, 0] }]);
      await expect(
        store.add([
          { id: 'b', vector: [0, 1, 0, 0] },
          { id: 'c', vector: [0, 1, 0] },
        ]),
      ).rejects.toThrow(/records\[1\]\.vector has 3 values, expected the dimension 4/);
      await expect(
        store.add([
          { id: 'b', vector: [0, 1, 0, 0] },
          { id: 'a', vector: [0, 0, 1, 0] },
        ]),
      ).rejects.toThrow(/id "a" is already stored/);
      await expect(
        store.add([
          { id: 'b', vector: [1, 1, 1, 1] },
          { id: 'b', vector: [1, 1, 1, 1] },
        ]),
      ).rejects.toThrow(/duplicate id "b"/);
      expect(await store.size()).toBe(1);
      await expect(store.search([1, 0], 1)).rejects.toThrow(
        /query has 2 values, expected the dimension 4/,
      );
      // Reopening the table with another dimension is an error, not a silent mismatch.
      await expect(
        PgVectorStore.connect({ connectionString: url(), table: name, dimension: 8 }),
      ).rejects.toThrow(/has embedding of type vector\(4\), expected vector\(8\)/);
    } finally {
      await store.close();
    }
  });

  it("builds pgvector's HNSW index when asked, and the pool can be the caller's", async () => {
    const pool = new pg.Pool({ connectionString: url(), max: 1 });
    const name = table();
    try {
      const store = await PgVectorStore.connect({
        pool,
        table: name,
        dimension: 8,
        metric: 'l2',
        hnsw: { m: 8 },
      });
      const data = gaussianVectors(50, 8, 3);
      await store.add(data);
      const { rows } = await pool.query('SELECT indexdef FROM pg_indexes WHERE tablename = $1', [
        name,
      ]);
      expect(rows.map((r) => r.indexdef).join('\n')).toMatch(
        /USING hnsw \(embedding vector_l2_ops\) WITH \(m='8'/,
      );
      expect((await store.search(data[3]!.vector, 1))[0]!.id).toBe('v3');
      await store.close(); // leaves the caller's pool open
      expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await pool.end();
    }
  });
});

describe('PgVectorStore.drop', () => {
  it('drops the table and ends the pool it made', async () => {
    const pool = new pg.Pool({ connectionString: pgliteUrl, max: 1 });
    const name = `rag_drop_${process.pid}`;
    const exists = async () =>
      (await pool.query('SELECT to_regclass($1) AS t', [name])).rows[0].t !== null;
    try {
      const store = await PgVectorStore.connect({
        connectionString: pgliteUrl,
        table: name,
        dimension: 4,
      });
      await store.add([{ id: 'a', vector: [1, 0, 0, 0] }]);
      expect(await exists()).toBe(true);
      await store.drop();
      expect(await exists()).toBe(false);
      await expect(store.size()).rejects.toThrow(/pool|ended/i);
    } finally {
      await pool.end();
    }
  });
});

describe('PgVectorStore errors', () => {
  it('a database that is down is a clear StoreConnectionError', async () => {
    const down = await PGlite.create({ extensions: { vector } });
    const downServer = new PGLiteSocketServer({ db: down, port: 0, host: '127.0.0.1' });
    await downServer.start();
    const address = downServer.getServerConn();
    await downServer.stop();
    await down.close();
    const error = await PgVectorStore.connect({
      connectionString: `postgres://postgres:secret@${address}/postgres`,
      dimension: 4,
    }).catch((e: Error) => e);
    expect((error as Error).name).toBe('StoreConnectionError');
    expect((error as Error).message).toMatch(
      new RegExp(
        `PgVectorStore.connect: cannot reach PostgreSQL at ${address}/postgres \\(ECONNREFUSED\\)`,
      ),
    );
    expect((error as Error).message).not.toContain('secret');
  });

  it('rejects bad options before connecting', async () => {
    await expect(
      PgVectorStore.connect({ connectionString: 'postgres://x', table: 'x; drop', dimension: 4 }),
    ).rejects.toThrow(/table must be letters, digits and _/);
    await expect(PgVectorStore.connect({ dimension: 4 })).rejects.toThrow(
      /give either connectionString or pool/,
    );
    await expect(
      PgVectorStore.connect({ connectionString: 'postgres://x', dimension: 0 }),
    ).rejects.toThrow(/dimension must be a positive integer, got 0/);
  });
});
