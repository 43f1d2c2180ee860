import {
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { FlatIndex } from '@tessera/rag';
import * as T from '@tessera/tensor-webgpu';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lines, tempDir } from '../test-utils/fixtures.js';
import { startPglite } from '../test-utils/pglite.js';
import { PASSAGES, QUESTIONS, tinyModels } from '../test-utils/retrieval.js';
import { buildIndexFolder, INDEX_FILES, openIndexFolder, readDocuments } from './index-folder.js';
import { INDEX_STORES, STORE_FILES } from './index-store.js';
import { methodRetriever } from './retrieval-methods.js';
import {
  encoderFingerprint,
  saveRetrievalModels,
  type TunedRetrieval,
} from './retrieval-models.js';

const device = await T.createDevice({ backend: 'cpu' });
let postgres: Awaited<ReturnType<typeof startPglite>>;
beforeAll(async () => {
  postgres = await startPglite();
}, 300_000);
afterAll(async () => postgres?.stop());
const root = tempDir();
const models = join(root, 'models');
const untuned = tinyModels(device);
/** What `rag train` records: the method and weight `openIndexFolder` uses by default. */
const tuned: TunedRetrieval = {
  method: 'hybrid-weighted',
  denseWeight: 0.3,
  split: 'dev',
  questions: 6,
  weights: [],
  methods: { bm25: 0, dense: 0, 'hybrid-rrf': 0, 'hybrid-weighted': 1, 'hybrid-rerank': 0 },
};
await saveRetrievalModels(models, { ...untuned, manifest: { ...untuned.manifest, tuned } });
const text = PASSAGES.join('\n\n');
const textFile = join(root, 'play.txt');
writeFileSync(textFile, text);

describe('index folder', () => {
  it('reads a text file as one document and a BEIR corpus by id', () => {
    expect(readDocuments(textFile)).toEqual([{ id: 'play.txt', text }]);
    const corpus = join(root, 'corpus.jsonl');
    writeFileSync(
      corpus,
      '{"_id":"a","title":"KING","text":"rides"}\n{"_id":"b","text":"sings"}\n',
    );
    expect(readDocuments(corpus)).toEqual([
      { id: 'a', text: 'KING rides' },
      { id: 'b', text: 'sings' },
    ]);
    expect(() => readDocuments(join(root, 'none.txt'))).toThrow(
      `--data ${join(root, 'none.txt')}: cannot read (ENOENT)`,
    );
  });

  it.each(INDEX_STORES)(
    'chunks to the window, embeds, stores (%s), and answers after reopening with cited spans',
    async (store) => {
      const out = join(root, `index-${store}`);
      const sink = lines();
      const manifest = await buildIndexFolder(out, textFile, models, device, {
        store,
        sink,
        databaseUrl: postgres.url,
      });
      expect(manifest).toMatchObject({ format: 2, documents: 1, chunkSize: 48, store });
      expect(manifest.chunks).toBeGreaterThan(1);
      expect(sink.lines.at(-1)).toMatch(
        new RegExp(`^embed .* ${manifest.chunks}/${manifest.chunks}`),
      );
      expect(readdirSync(out).sort()).toEqual(
        [...Object.values(INDEX_FILES), STORE_FILES[store]].sort(),
      );
      expect(readdirSync(root).filter((f) => f.includes('partial'))).toEqual([]);
      const { retriever, close } = await openIndexFolder(out, device, {
        databaseUrl: postgres.url,
      });
      // Every chunk is back (BM25 rebuilt, vectors loaded), each citing its span of the file.
      const hits = await retriever.search('the ship sails through the storm', manifest.chunks);
      await close();
      expect(hits.map((h) => h.id).sort()).toEqual(
        Array.from({ length: manifest.chunks }, (_, i) => `play.txt#${i}`).sort(),
      );
      for (const h of hits) expect(text.slice(h.start, h.end)).toBe(h.text);
    },
  );

  it('finds the same passages in every store, and uses hnswlib by default where it is installed', async () => {
    const [ours, ...others] = await Promise.all(
      [...INDEX_STORES, undefined].map(async (store) => {
        const out = join(root, `same-${store ?? 'default'}`);
        const connection = { databaseUrl: postgres.url };
        const m = await buildIndexFolder(out, textFile, models, device, { store, ...connection });
        const index = await openIndexFolder(out, device, connection);
        const hits = [];
        for (const q of QUESTIONS) hits.push(...(await index.retriever.search(q, 3)));
        await index.close();
        return { m, hits };
      }),
    );
    // The same passages; weighted fusion's scores carry each store's float32 distances.
    for (const other of others) {
      expect(other.hits.map((h) => h.id)).toEqual(ours!.hits.map((h) => h.id));
      for (const [i, h] of other.hits.entries())
        expect(h.score).toBeCloseTo(ours!.hits[i]!.score, 5);
    }
    expect(others.at(-1)!.m.store).toBe('hnswlib');
  });

  it('drops the PostgreSQL table of a failed build, and needs the database to open a pgvector index', async () => {
    const pool = new pg.Pool({ connectionString: postgres.url, max: 1 });
    const tables = async () =>
      (await pool.query("SELECT tablename FROM pg_tables WHERE tablename LIKE 'tessera_rag_%'"))
        .rows.length;
    try {
      const before = await tables();
      // The build fails after the table was created and its first batch written (the progress
      // line comes after each batch).
      let writes = 0;
      const sink = {
        write() {
          writes++;
          throw new Error('terminal gone');
        },
      };
      const out = join(root, 'pg-failed');
      await expect(
        buildIndexFolder(out, textFile, models, device, {
          store: 'pgvector',
          sink,
          databaseUrl: postgres.url,
        }),
      ).rejects.toThrow('terminal gone');
      expect(writes).toBe(1);
      expect(existsSync(out)).toBe(false);
      expect(await tables()).toBe(before);
      expect(readdirSync(root).filter((f) => f.includes('partial'))).toEqual([]);
    } finally {
      await pool.end();
    }
    const built = join(root, 'index-pgvector');
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      await expect(openIndexFolder(built, device)).rejects.toThrow(
        /\(table tessera_rag_[0-9a-f]{12}\) keeps its vectors in PostgreSQL: give --database-url/,
      );
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
    // The index's table dropped since: a clear error, and no empty table left behind by opening.
    const { table } = JSON.parse(readFileSync(join(built, 'pgvector.json'), 'utf8'));
    const copy = join(root, 'index-pgvector-dropped');
    cpSync(built, copy, { recursive: true });
    const admin = new pg.Pool({ connectionString: postgres.url, max: 1 });
    try {
      await admin.query(`CREATE TABLE "${table}_kept" AS SELECT * FROM "${table}"`);
      await admin.query(`DROP TABLE "${table}"`);
      await expect(openIndexFolder(copy, device, { databaseUrl: postgres.url })).rejects.toThrow(
        `--index ${copy}: the PostgreSQL table ${table} holds no vectors (dropped since the index was built?); rebuild the index with "rag index"`,
      );
      const left = await admin.query('SELECT 1 FROM pg_tables WHERE tablename = $1', [table]);
      expect(left.rows).toEqual([]);
      await admin.query(`ALTER TABLE "${table}_kept" RENAME TO "${table}"`);
    } finally {
      await admin.end();
    }
  });

  it('retrieves with the recorded method and weight by default, or with the method asked for', async () => {
    const out = join(root, 'index-methods');
    await buildIndexFolder(out, textFile, models, device, { store: 'hnsw' });
    const chunks = readFileSync(join(out, INDEX_FILES.chunks), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const question = 'who counts gold in the tower';
    const opened = await openIndexFolder(out, device);
    expect(opened).toMatchObject({ method: 'hybrid-weighted', denseWeight: 0.3 });
    for (const method of ['bm25', 'hybrid-weighted', 'hybrid-rerank'] as const) {
      const index =
        method === 'hybrid-weighted' ? opened : await openIndexFolder(out, device, { method });
      expect(index.method).toBe(method);
      // The same retriever as the method's over a fresh store holding the same vectors.
      const want = methodRetriever(method, index.models, new FlatIndex({ dimension: 32 }), {
        denseWeight: 0.3,
      });
      await want.add(chunks);
      expect((await index.retriever.search(question, 3)).map((h) => h.id)).toEqual(
        (await want.search(question, 3)).map((h) => h.id),
      );
    }
    expect((await openIndexFolder(out, device, { method: 'dense' })).denseWeight).toBeUndefined();
  });

  it('says how to record a method when the models folder has none', async () => {
    const old = join(root, 'models-untuned');
    await saveRetrievalModels(old, untuned);
    const out = join(root, 'index-untuned');
    await buildIndexFolder(out, textFile, old, device, { store: 'hnsw' });
    await expect(openIndexFolder(out, device)).rejects.toThrow(
      `${join(old, 'retrieval.json')} records no tuned retrieval method (models trained before "rag train" recorded one): run "rag eval --bench BENCH --models ${old}" to choose it on the dev split and record it, or choose --method bm25, dense or hybrid-rrf`,
    );
    await expect(openIndexFolder(out, device, { method: 'hybrid-rerank' })).rejects.toThrow(
      'records no tuned dense weight',
    );
    expect((await openIndexFolder(out, device, { method: 'hybrid-rrf' })).method).toBe(
      'hybrid-rrf',
    );
  });

  it('records its models relative to itself with their fingerprint, and refuses models retrained under it', async () => {
    const place = tempDir();
    const own = join(place, 'models');
    await saveRetrievalModels(own, { ...untuned, manifest: { ...untuned.manifest, tuned } });
    const out = join(place, 'index');
    const manifest = await buildIndexFolder(out, textFile, own, device, { store: 'hnsw' });
    expect(manifest).toMatchObject({
      format: 2,
      models: '../models',
      modelsSha256: encoderFingerprint(own),
    });
    expect(manifest.modelsSha256).toMatch(/^[0-9a-f]{64}$/);
    // The two folders move together.
    const moved = join(tempDir(), 'moved');
    renameSync(place, moved);
    const question = 'who counts gold in the tower';
    const hits = await (await openIndexFolder(join(moved, 'index'), device)).retriever.search(
      question,
      2,
    );
    // Format 1 (an absolute path, no fingerprint) still opens, to the same results.
    const old = JSON.parse(readFileSync(join(moved, 'index', INDEX_FILES.manifest), 'utf8'));
    writeFileSync(
      join(moved, 'index', INDEX_FILES.manifest),
      JSON.stringify({ ...old, format: 1, models: join(moved, 'models'), modelsSha256: undefined }),
    );
    const opened = await openIndexFolder(join(moved, 'index'), device);
    expect(await opened.retriever.search(question, 2)).toEqual(hits);
    writeFileSync(join(moved, 'index', INDEX_FILES.manifest), JSON.stringify(old));
    // Other weights in the models folder: the index is refused, naming both.
    const other = tinyModels(device, 4);
    await saveRetrievalModels(join(moved, 'models'), other);
    await expect(openIndexFolder(join(moved, 'index'), device)).rejects.toThrow(
      `--index ${join(moved, 'index')}: built with the models ${old.modelsSha256.slice(0, 12)} of ${join(moved, 'models')}, which now holds ${encoderFingerprint(join(moved, 'models')).slice(0, 12)} (retrained or replaced), whose embeddings would not match the index's vectors; rebuild the index with "rag index"`,
    );
  });

  it('refuses an existing folder, and leaves nothing behind when a build fails', async () => {
    await expect(buildIndexFolder(models, textFile, models, device)).rejects.toThrow(
      `--out ${models} exists; give a new folder for the index`,
    );
    const empty = join(root, 'empty.txt');
    writeFileSync(empty, '   ');
    const out = join(root, 'never');
    await expect(buildIndexFolder(out, empty, models, device)).rejects.toThrow(/empty/);
    expect(existsSync(out)).toBe(false);
  });

  it('names a missing or corrupt index, file by file', async () => {
    await expect(openIndexFolder(root, device, { metod: 'bm25' } as never)).rejects.toThrow(
      'openIndexFolder: unknown option "metod" (known options: method, databaseUrl)',
    );
    await expect(
      buildIndexFolder(join(root, 'typo'), textFile, models, device, { stor: 'hnsw' } as never),
    ).rejects.toThrow('buildIndexFolder: unknown option "stor"');
    const nothing = join(root, 'nothing');
    await expect(openIndexFolder(nothing, device)).rejects.toThrow(
      `--index ${nothing}: not an index folder written by "rag index" (no such folder)`,
    );
    await expect(openIndexFolder(root, device)).rejects.toThrow(
      `--index ${root}: not an index folder written by "rag index" (no index.json)`,
    );
    const out = join(root, 'index2');
    await buildIndexFolder(out, textFile, models, device, { store: 'hnswlib' });
    const file = (name: string) => join(out, name);
    const keep = (name: string) => readFileSync(file(name));
    const rebuild = 'rebuild the index with "rag index"';
    const cases: [string, string | null, string | RegExp][] = [
      [INDEX_FILES.chunks, null, `--index ${out}: chunks.jsonl is missing; ${rebuild}`],
      [
        INDEX_FILES.chunks,
        `${keep(INDEX_FILES.chunks).toString().split('\n')[0]}\n{"id": \n`,
        new RegExp(`^--index ${out}: chunks\\.jsonl line 2 is not JSON \\(.*\\); ${rebuild}$`),
      ],
      [
        INDEX_FILES.manifest,
        '{"format": 2',
        new RegExp(`^--index ${out}: index\\.json is not JSON \\(.*\\); ${rebuild}$`),
      ],
      [STORE_FILES.hnswlib, null, /vectors\.hnswlib/],
      [STORE_FILES.hnswlib, 'garbage', /vectors\.hnswlib: not a Tessera index file/],
    ];
    for (const [name, content, error] of cases) {
      const kept = keep(name);
      if (content === null) unlinkSync(file(name));
      else writeFileSync(file(name), content);
      await expect(openIndexFolder(out, device), name).rejects.toThrow(error);
      writeFileSync(file(name), kept);
    }
    // The models folder it names is gone.
    const gone = join(root, 'models-gone');
    await saveRetrievalModels(gone, untuned);
    const orphan = join(root, 'index-orphan');
    await buildIndexFolder(orphan, textFile, gone, device, { store: 'hnsw' });
    rmSync(gone, { recursive: true });
    await expect(openIndexFolder(orphan, device)).rejects.toThrow(
      `${gone}: no such folder; "rag train --out ${gone}" writes a models folder`,
    );
  });
});
