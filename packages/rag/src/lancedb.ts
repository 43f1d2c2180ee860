/**
 * @packageDocumentation
 * A {@link VectorStore} in LanceDB, the embedded vector database: a folder on disk, no server.
 * Needs the optional peer dependency `@lancedb/lancedb` (tested with 0.37.1).
 */
import type { Connection, Table } from '@lancedb/lancedb';
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

/** Options of {@link LanceDbStore.open}. */
export interface LanceDbStoreOptions {
  /** The database folder (created if missing), or any URI LanceDB connects to. */
  uri: string;
  /** Table name. Default `'vectors'`. */
  table?: string;
  /** Values per vector; an existing table must have this dimension. */
  dimension: number;
  /** Default `'cosine'`. */
  metric?: Metric;
}

const quote = (id: string) => `'${id.replaceAll("'", "''")}'`;
const IN_BATCH = 500;

/**
 * Vectors in a LanceDB table `(id: Utf8, vector: FixedSizeList<Float32>)`. Searches are exact
 * (LanceDB scans the table when no vector index is built) and report distances with this
 * package's conventions (LanceDB's squared l2 and 1 − a·b are converted). The table is created at
 * the first `add`. Every call runs after the previous one has finished, so checks and writes of
 * one call never interleave with another's.
 */
export class LanceDbStore implements VectorStore {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: Connection,
    private readonly tableName: string,
    private table: Table | undefined,
    readonly dimension: number,
    readonly metric: Metric,
  ) {}

  /**
   * Connects to (or creates) the database and opens the table if it exists.
   *
   * @throws StoreConnectionError - LanceDB is not installed, or the database cannot be opened
   * @throws RangeError - bad options, or an existing table of another dimension
   */
  static async open(options: LanceDbStoreOptions): Promise<LanceDbStore> {
    const where = 'LanceDbStore.open';
    checkOptions(where, options, ['uri', 'table', 'dimension', 'metric']);
    const dimension = checkDimension(where, options.dimension);
    const metric = checkMetric(where, options.metric ?? 'cosine');
    const tableName = options.table ?? 'vectors';
    if (typeof options.uri !== 'string' || options.uri === '')
      throw new TypeError(`${where}: uri must be a non-empty string`);
    let lancedb: typeof import('@lancedb/lancedb');
    try {
      lancedb = await import('@lancedb/lancedb');
    } catch (e) {
      throw new StoreConnectionError(
        `${where}: @tessera/rag/lancedb needs the optional peer dependency @lancedb/lancedb (npm install @lancedb/lancedb@0.37.1 apache-arrow@18.1.0)`,
        { cause: e },
      );
    }
    let db: Connection;
    let table: Table | undefined;
    try {
      db = await lancedb.connect(options.uri);
      if ((await db.tableNames()).includes(tableName)) table = await db.openTable(tableName);
    } catch (e) {
      throw new StoreConnectionError(
        `${where}: cannot open the LanceDB database at ${options.uri} (${(e as Error).message})`,
        { cause: e },
      );
    }
    if (table) {
      const field = (await table.schema()).fields.find((f) => f.name === 'vector');
      const size = (field?.type as { listSize?: number } | undefined)?.listSize;
      if (size !== dimension)
        throw new RangeError(
          `${where}: table ${tableName} holds vectors of dimension ${size ?? 'unknown'}, expected ${dimension}`,
        );
    }
    return new LanceDbStore(db, tableName, table, dimension, metric);
  }

  /** Runs `task` after every earlier call has finished. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Ids of `ids` already in the table. */
  private async existing(ids: readonly string[]): Promise<string[]> {
    if (!this.table) return [];
    const found: string[] = [];
    for (let i = 0; i < ids.length; i += IN_BATCH) {
      const rows = await this.table
        .query()
        .where(
          `id IN (${ids
            .slice(i, i + IN_BATCH)
            .map(quote)
            .join(', ')})`,
        )
        .select(['id'])
        .toArray();
      for (const r of rows) found.push(r.id as string);
    }
    return found;
  }

  /**
   * Adds records in one LanceDB write (one new table version): all or nothing.
   *
   * @throws RangeError or TypeError - a wrong dimension, a non-finite value, an id repeated or
   *   already stored; nothing is written
   */
  add(records: readonly VectorRecord[]): Promise<void> {
    return this.serial(async () => {
      const where = 'LanceDbStore.add';
      checkRecords(where, records, this.dimension, this.metric, () => false);
      if (records.length === 0) return;
      const [clash] = await this.existing(records.map((r) => r.id));
      if (clash !== undefined)
        throw new RangeError(
          `${where}: id ${JSON.stringify(clash)} is already stored; delete it first to replace it`,
        );
      const rows = records.map((r) => ({ id: r.id, vector: Array.from(r.vector) }));
      if (this.table) await this.table.add(rows);
      else this.table = await this.db.createTable(this.tableName, rows);
    });
  }

  delete(ids: readonly string[]): Promise<void> {
    return this.serial(async () => {
      if (!this.table) return;
      for (let i = 0; i < ids.length; i += IN_BATCH)
        await this.table.delete(
          `id IN (${ids
            .slice(i, i + IN_BATCH)
            .map(quote)
            .join(', ')})`,
        );
    });
  }

  /**
   * The `k` nearest records, nearest first (an exact scan when no vector index is built).
   *
   * @throws RangeError - bad `k` or a query of the wrong dimension
   */
  search(query: ArrayLike<number>, k: number): Promise<VectorHit[]> {
    return this.serial(async () => {
      checkK('LanceDbStore.search', k);
      checkVector('LanceDbStore.search', 'query', query, this.dimension, this.metric);
      if (!this.table) return [];
      const rows = await this.table
        .vectorSearch(Array.from(query))
        .distanceType(this.metric)
        .select(['id', '_distance'])
        .limit(k)
        .toArray();
      return rows.map((r) => ({
        id: r.id as string,
        distance: this.distance(r._distance as number),
      }));
    });
  }

  size(): Promise<number> {
    return this.serial(async () => (this.table ? this.table.countRows() : 0));
  }

  /** Releases the table handle; the data stays on disk. */
  close(): Promise<void> {
    return this.serial(async () => {
      this.table?.close();
      this.db.close();
    });
  }

  /** LanceDB's distance in this package's convention: √ of squared l2; −a·b for 1 − a·b. */
  private distance(d: number): number {
    if (this.metric === 'l2') return Math.sqrt(Math.max(0, d));
    return this.metric === 'dot' ? d - 1 : d;
  }
}
