/**
 * @packageDocumentation
 * A {@link VectorStore} in PostgreSQL with the pgvector extension, through the `pg` client: for
 * corpora that outgrow one machine. Needs the optional peer dependency `pg` (or a pool of your
 * own with the same `query`/`connect` methods).
 */
import { checkOptions } from './options.js';
import {
  checkDimension,
  checkK,
  checkMetric,
  checkRecords,
  checkVector,
  type Metric,
  StoreConnectionError,
  type VectorHit,
  type VectorRecord,
  type VectorStore,
} from './vector-store.js';

/** What the store needs of a `pg` client: `pg.Client`, a pooled client, `pg.Pool`. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** What the store needs of a `pg.Pool`: queries, and a dedicated client for a transaction. */
export interface PgPoolLike extends PgQueryable {
  connect(): Promise<PgQueryable & { release(error?: Error | boolean): void }>;
  end(): Promise<void>;
}

/** Options of {@link PgVectorStore.connect}. */
export interface PgVectorStoreOptions {
  /** `postgres://user:password@host:port/database`; the store makes (and ends) a `pg.Pool`. */
  connectionString?: string;
  /** A pool of your own (e.g. `new pg.Pool(...)`), instead of `connectionString`; you end it. */
  pool?: PgPoolLike;
  /** Table name (letters, digits, `_`). Default `'tessera_vectors'`; created if missing. */
  table?: string;
  /** Values per vector; an existing table must have this dimension. */
  dimension: number;
  /** Default `'cosine'`. */
  metric?: Metric;
  /**
   * Builds pgvector's HNSW index on the table (approximate search; `m` default 16,
   * `efConstruction` default 64, pgvector's defaults). Default: no index, exact search.
   */
  hnsw?: { m?: number; efConstruction?: number };
}

/** pgvector's distance operator and operator class for each metric: the same conventions. */
const OPERATORS: Record<Metric, { op: string; ops: string }> = {
  cosine: { op: '<=>', ops: 'vector_cosine_ops' },
  dot: { op: '<#>', ops: 'vector_ip_ops' },
  l2: { op: '<->', ops: 'vector_l2_ops' },
};

const INSERT_BATCH = 500;

/** A vector in pgvector's text form; JavaScript prints each float32 value exactly. */
const literal = (v: ArrayLike<number>) => `[${Array.from(v).join(',')}]`;

/** Where a connection string points, without its password, for messages. */
function describeTarget(connectionString: string | undefined): string {
  if (!connectionString) return 'the given pool';
  try {
    const url = new URL(connectionString);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'the given connection string';
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
]);

function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; message?: string; errors?: unknown[] };
  if (err?.code && CONNECTION_CODES.has(err.code)) return true;
  if (
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
      err?.message ?? '',
    )
  )
    return true;
  return Array.isArray(err?.errors) && err.errors.some(isConnectionError); // AggregateError (IPv4 + IPv6)
}

/**
 * Vectors in a PostgreSQL table `(id text PRIMARY KEY, embedding vector(dimension))`, searched
 * with pgvector's distance operators (`<=>` cosine, `<#>` negative inner product, `<->` l2), whose
 * values are this package's distances. Without `hnsw` the search is exact, and returns what a
 * `FlatIndex` returns on the same data. `add` runs in one transaction: all or nothing.
 */
export class PgVectorStore implements VectorStore {
  private constructor(
    private readonly pool: PgPoolLike,
    private readonly ownsPool: boolean,
    /** The table's name. */
    readonly table: string,
    private readonly target: string,
    readonly dimension: number,
    readonly metric: Metric,
  ) {}

  /**
   * Connects, creates the extension and the table if missing (and the HNSW index if asked), and
   * checks an existing table's dimension.
   *
   * @throws StoreConnectionError - `pg` is not installed, the server cannot be reached, or it has
   *   no vector extension
   * @throws RangeError or TypeError - bad options, or a table of another dimension
   */
  static async connect(options: PgVectorStoreOptions): Promise<PgVectorStore> {
    const where = 'PgVectorStore.connect';
    checkOptions(where, options, [
      'connectionString',
      'pool',
      'table',
      'dimension',
      'metric',
      'hnsw',
    ]);
    const dimension = checkDimension(where, options.dimension);
    const metric = checkMetric(where, options.metric ?? 'cosine');
    const table = options.table ?? 'tessera_vectors';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table))
      throw new RangeError(
        `${where}: table must be letters, digits and _ (not starting with a digit), got ${JSON.stringify(table)}`,
      );
    if (!options.pool === !options.connectionString)
      throw new TypeError(`${where}: give either connectionString or pool`);
    checkOptions(`${where}: hnsw`, options.hnsw, ['m', 'efConstruction']);
    const target = describeTarget(options.connectionString);
    let pool = options.pool;
    if (!pool) {
      let pg: typeof import('pg');
      try {
        pg = await import('pg');
      } catch (e) {
        throw new StoreConnectionError(
          `${where}: @tessera/rag/pgvector needs the optional peer dependency pg (npm install pg)`,
          { cause: e },
        );
      }
      const Pool = (pg.default?.Pool ?? pg.Pool) as unknown as new (config: object) => PgPoolLike;
      pool = new Pool({ connectionString: options.connectionString });
    }
    const store = new PgVectorStore(pool, !options.pool, table, target, dimension, metric);
    try {
      await store.setUp(options.hnsw);
    } catch (e) {
      if (store.ownsPool) await pool.end().catch(() => undefined);
      throw e;
    }
    return store;
  }

  private async setUp(hnsw: PgVectorStoreOptions['hnsw']): Promise<void> {
    await this.run('connect', () => this.pool.query('SELECT 1'));
    try {
      await this.pool.query('CREATE EXTENSION IF NOT EXISTS vector');
    } catch (e) {
      throw new StoreConnectionError(
        `PgVectorStore.connect: the server at ${this.target} has no pgvector extension (${(e as Error).message})`,
        { cause: e },
      );
    }
    const t = `"${this.table}"`;
    await this.run('connect', () =>
      this.pool.query(
        `CREATE TABLE IF NOT EXISTS ${t} (id text PRIMARY KEY, embedding vector(${this.dimension}) NOT NULL)`,
      ),
    );
    const { rows } = await this.run('connect', () =>
      this.pool.query(
        `SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'embedding'`,
        [t],
      ),
    );
    const type = rows[0]?.type;
    if (type !== `vector(${this.dimension})`)
      throw new RangeError(
        `PgVectorStore.connect: table ${this.table} has embedding of type ${String(type)}, expected vector(${this.dimension})`,
      );
    if (hnsw) {
      const m = hnsw.m ?? 16;
      const ef = hnsw.efConstruction ?? 64;
      if (!Number.isInteger(m) || m < 2 || !Number.isInteger(ef) || ef < 1)
        throw new RangeError(`PgVectorStore.connect: bad hnsw options ${JSON.stringify(hnsw)}`);
      await this.run('connect', () =>
        this.pool.query(
          `CREATE INDEX IF NOT EXISTS "${this.table}_embedding_hnsw" ON ${t} USING hnsw (embedding ${OPERATORS[this.metric].ops}) WITH (m = ${m}, ef_construction = ${ef})`,
        ),
      );
    }
  }

  /** Runs a database call; a connection failure becomes a {@link StoreConnectionError}. */
  private async run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (!isConnectionError(e)) throw e;
      const err = e as { code?: string; message?: string };
      throw new StoreConnectionError(
        `PgVectorStore.${operation}: cannot reach PostgreSQL at ${this.target} (${err.code ?? err.message})`,
        { cause: e },
      );
    }
  }

  /**
   * Inserts records in one transaction: all or nothing.
   *
   * @throws RangeError or TypeError - a wrong dimension, a non-finite value, an id repeated or
   *   already stored; nothing is written
   * @throws StoreConnectionError - the database cannot be reached
   */
  async add(records: readonly VectorRecord[]): Promise<void> {
    const where = 'PgVectorStore.add';
    checkRecords(where, records, this.dimension, this.metric, () => false);
    if (records.length === 0) return;
    const client = await this.run('add', () => this.pool.connect());
    let failed: Error | undefined;
    try {
      await this.run('add', () => client.query('BEGIN'));
      const { rows } = await this.run('add', () =>
        client.query(`SELECT id FROM "${this.table}" WHERE id = ANY($1) LIMIT 1`, [
          records.map((r) => r.id),
        ]),
      );
      if (rows.length > 0)
        throw new RangeError(
          `${where}: id ${JSON.stringify(rows[0]!.id)} is already stored; delete it first to replace it`,
        );
      for (let i = 0; i < records.length; i += INSERT_BATCH) {
        const batch = records.slice(i, i + INSERT_BATCH);
        const values = batch.map((_, j) => `($${2 * j + 1}, $${2 * j + 2}::vector)`).join(', ');
        await this.run('add', () =>
          client.query(
            `INSERT INTO "${this.table}" (id, embedding) VALUES ${values}`,
            batch.flatMap((r) => [r.id, literal(r.vector)]),
          ),
        );
      }
      await this.run('add', () => client.query('COMMIT'));
    } catch (e) {
      failed = e as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release(failed instanceof StoreConnectionError ? failed : undefined);
    }
  }

  /** @throws StoreConnectionError - the database cannot be reached */
  async delete(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.run('delete', () =>
      this.pool.query(`DELETE FROM "${this.table}" WHERE id = ANY($1)`, [[...ids]]),
    );
  }

  /**
   * The `k` nearest records, nearest first, with pgvector's distances.
   *
   * @throws RangeError - bad `k` or a query of the wrong dimension
   * @throws StoreConnectionError - the database cannot be reached
   */
  async search(query: ArrayLike<number>, k: number): Promise<VectorHit[]> {
    checkK('PgVectorStore.search', k);
    checkVector('PgVectorStore.search', 'query', query, this.dimension, this.metric);
    const { op } = OPERATORS[this.metric];
    const { rows } = await this.run('search', () =>
      this.pool.query(
        `SELECT id, embedding ${op} $1::vector AS distance FROM "${this.table}" ORDER BY embedding ${op} $1::vector LIMIT $2`,
        [literal(query), k],
      ),
    );
    return rows.map((r) => ({ id: r.id as string, distance: Number(r.distance) }));
  }

  /** @throws StoreConnectionError - the database cannot be reached */
  async size(): Promise<number> {
    const { rows } = await this.run('size', () =>
      this.pool.query(`SELECT count(*)::int AS n FROM "${this.table}"`),
    );
    return Number(rows[0]!.n);
  }

  /**
   * Drops the table with its vectors (and its HNSW index), then ends the pool as {@link close}
   * does: for a caller that gives up on what it was writing.
   *
   * @throws StoreConnectionError - the database cannot be reached
   */
  async drop(): Promise<void> {
    await this.run('drop', () => this.pool.query(`DROP TABLE IF EXISTS "${this.table}"`));
    await this.close();
  }

  /** Ends the pool the store made from `connectionString` (a pool you gave stays open). */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
