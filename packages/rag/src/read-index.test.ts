import { FlatIndex, HnswIndex, IndexFileError, readIndex } from '@tessera/rag';
import { describe, expect, it } from 'vitest';
import { encodeIndexFile } from './index-file.js';
import { gaussianVectors } from './test-utils/vectors.js';

describe('readIndex', () => {
  it('reads either kind back as the class that wrote it', () => {
    const data = gaussianVectors(40, 6, 4);
    const flat = new FlatIndex({ dimension: 6, metric: 'dot' });
    const hnsw = new HnswIndex({ dimension: 6, metric: 'l2' });
    flat.add(data);
    hnsw.add(data);
    const q = data[9]!.vector;
    const a = readIndex(flat.toBytes());
    const b = readIndex(hnsw.toBytes());
    expect(a).toBeInstanceOf(FlatIndex);
    expect(b).toBeInstanceOf(HnswIndex);
    expect(a.search(q, 4)).toEqual(flat.search(q, 4));
    expect(b.search(q, 4)).toEqual(hnsw.search(q, 4));
    expect([a.metric, b.metric, b.dimension]).toEqual(['dot', 'l2', 6]);
  });

  it('rejects an unknown kind and sections of the wrong size', () => {
    expect(() => readIndex(encodeIndexFile({ kind: 'ivf' }, []), 'f')).toThrow(
      new IndexFileError('f: unknown index kind "ivf"'),
    );
    expect(() => readIndex(encodeIndexFile({ kind: 'hnswlib' }, []), 'f')).toThrow(
      new IndexFileError(
        'f: an hnswlib index; read it with HnswlibStore.load from @tessera/rag/hnswlib',
      ),
    );
    const short = encodeIndexFile({ kind: 'flat', metric: 'l2', dimension: 2, ids: ['a'] }, [
      new Float32Array(1),
    ]);
    expect(() => readIndex(short, 'f')).toThrow('f: section 0 holds 4 bytes, expected 8');
  });
});
