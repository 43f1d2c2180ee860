import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32, FlatIndex, FORMAT_VERSION, IndexFileError, readIndex } from '@tessera/rag';
import { describe, expect, it } from 'vitest';
import { decodeIndexFile, encodeIndexFile } from './index-file.js';

describe('index file format', () => {
  it("computes zlib's CRC-32", () => {
    for (const text of [
      '',
      'a',
      '123456789',
      'The quick brown fox jumps over the lazy dog'.repeat(9),
    ]) {
      const bytes = new TextEncoder().encode(text);
      expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    }
  });

  it('round-trips a header and aligned typed-array sections', () => {
    const floats = Float32Array.from([1.5, -2, 3.25]);
    const ints = Int32Array.from([7, -1]);
    const odd = Uint8Array.from([1, 2, 3, 4, 5]);
    const image = decodeIndexFile(encodeIndexFile({ kind: 'x', n: 3 }, [odd, floats, ints]));
    expect(image.header).toEqual({ kind: 'x', n: 3 });
    expect(image.sections[0]).toEqual(odd);
    expect(new Float32Array(image.sections[1]!.buffer)).toEqual(floats);
    expect(new Int32Array(image.sections[2]!.buffer)).toEqual(ints);
  });

  it('a corrupt, truncated, foreign or newer file is a clear IndexFileError', () => {
    const index = new FlatIndex({ dimension: 2 });
    index.add([{ id: 'a', vector: [1, 2] }]);
    const bytes = index.toBytes();
    const flipped = bytes.slice();
    flipped[bytes.length - 9]! ^= 0x10;
    expect(() => readIndex(flipped, 'x.idx')).toThrow(
      new IndexFileError('x.idx: checksum mismatch: the file is truncated or corrupt'),
    );
    expect(() => readIndex(bytes.subarray(0, bytes.length - 3), 'x.idx')).toThrow(
      /checksum mismatch/,
    );
    expect(() => readIndex(new TextEncoder().encode('{"not": "an index"}'), 'x.idx')).toThrow(
      'x.idx: not a Tessera index file (no TSRAGIDX magic at the start)',
    );
    const newer = bytes.slice();
    new DataView(newer.buffer).setUint32(8, FORMAT_VERSION + 1, true);
    expect(() => readIndex(newer, 'x.idx')).toThrow(
      `x.idx: format version ${FORMAT_VERSION + 1}, but this build reads version ${FORMAT_VERSION}`,
    );
  });
});
