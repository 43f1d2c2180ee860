import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlatIndex, HnswIndex, IndexFileError } from '@tessera/rag';
import { loadBeir, loadIndex, readIndexFile, saveIndex, writeFileAtomic } from '@tessera/rag/node';
import { afterAll, describe, expect, it } from 'vitest';
import { gaussianVectors } from './test-utils/vectors.js';

const dir = mkdtempSync(join(tmpdir(), 'rag-node-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('index files on disk', () => {
  it('saves atomically and loads back either kind', async () => {
    const data = gaussianVectors(200, 8, 1);
    const hnsw = new HnswIndex({ dimension: 8 });
    hnsw.add(data);
    const path = join(dir, 'a.idx');
    await saveIndex(path, hnsw);
    await saveIndex(path, hnsw); // over an existing file
    expect(readdirSync(dir).filter((f) => f.includes('a.idx'))).toEqual(['a.idx']); // no temporary file left
    const loaded = await loadIndex(path);
    expect(loaded.search(data[5]!.vector, 3)).toEqual(hnsw.search(data[5]!.vector, 3));
  });

  it('a failed write leaves the old file whole and no temporary file', async () => {
    const path = join(dir, 'b.idx');
    const flat = new FlatIndex({ dimension: 2 });
    flat.add([{ id: 'x', vector: [1, 1] }]);
    await saveIndex(path, flat);
    const before = readFileSync(path);
    // A folder where the file should be: the rename fails after the temporary file is written.
    const blocked = join(dir, 'blocked.idx');
    mkdirSync(join(blocked, 'inside'), { recursive: true });
    await expect(writeFileAtomic(blocked, 'new')).rejects.toThrow();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readFileSync(path)).toEqual(before);
  });

  it('readIndexFile gives the bytes, or an IndexFileError naming a missing or unreadable path', async () => {
    const path = join(dir, 'bytes.idx');
    writeFileSync(path, new Uint8Array([1, 2, 3]));
    expect([...(await readIndexFile(path))]).toEqual([1, 2, 3]);
    const missing = join(dir, 'nowhere.idx');
    await expect(readIndexFile(missing)).rejects.toThrow(
      new IndexFileError(`${missing}: no index file there`),
    );
    await expect(readIndexFile(dir)).rejects.toThrow(
      new IndexFileError(`${dir}: cannot read (EISDIR)`),
    );
  });

  it('a missing or corrupt file is a clear IndexFileError', async () => {
    const missing = join(dir, 'missing.idx');
    await expect(loadIndex(missing)).rejects.toThrow(
      new IndexFileError(`${missing}: no index file there`),
    );
    const corrupt = join(dir, 'corrupt.idx');
    const flat = new FlatIndex({ dimension: 2 });
    flat.add([{ id: 'x', vector: [1, 1] }]);
    const bytes = flat.toBytes();
    writeFileSync(corrupt, bytes.subarray(0, bytes.length - 10));
    await expect(loadIndex(corrupt)).rejects.toThrow(`${corrupt}: checksum mismatch`);
  });
});

describe('loadBeir', () => {
  const beir = join(dir, 'scifact-mini');
  mkdirSync(join(beir, 'qrels'), { recursive: true });
  writeFileSync(
    join(beir, 'corpus.jsonl'),
    [
      { _id: 'd1', title: 'Cats', text: 'Cats purr.', metadata: {} },
      { _id: 'd2', title: '', text: 'Dogs bark.' },
    ]
      .map((o) => JSON.stringify(o))
      .join('\n'),
  );
  writeFileSync(
    join(beir, 'queries.jsonl'),
    '{"_id": "q1", "text": "what purrs?"}\n{"_id": "q2", "text": "unjudged"}\n',
  );
  writeFileSync(
    join(beir, 'qrels', 'test.tsv'),
    'query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\n',
  );

  it("reads BEIR's layout and keeps the split's queries", async () => {
    const data = await loadBeir(beir);
    expect([...data.corpus]).toEqual([
      ['d1', { title: 'Cats', text: 'Cats purr.' }],
      ['d2', { title: '', text: 'Dogs bark.' }],
    ]);
    expect([...data.queries]).toEqual([['q1', 'what purrs?']]);
    expect(data.qrels).toEqual({ q1: { d1: 1, d2: 0 } });
  });

  it('names a missing file', async () => {
    await expect(loadBeir(beir, 'dev')).rejects.toThrow(/cannot read .*qrels\/dev\.tsv \(ENOENT\)/);
  });
});
