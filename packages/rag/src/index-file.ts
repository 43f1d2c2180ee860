/**
 * The file format of the in-process indexes, version {@link FORMAT_VERSION}:
 *
 * | bytes      | what                                                        |
 * | ---------- | ----------------------------------------------------------- |
 * | 8          | magic `TSRAGIDX`                                            |
 * | 4          | format version, u32 little-endian                           |
 * | 4          | header length n, u32                                        |
 * | n          | header: UTF-8 JSON (kind, metric, dimension, ids, options…) |
 * | pad        | zeros to a multiple of 4                                    |
 * | sections…  | for each section: byte length u32, then the bytes, padded   |
 * | 4          | CRC-32 (IEEE) of everything before it                       |
 *
 * Sections are typed arrays in little-endian order. A file that is cut short, altered, of
 * another version or not an index at all fails with an {@link IndexFileError}.
 */
export const FORMAT_VERSION = 1;

const MAGIC = 'TSRAGIDX';

/** A missing, truncated, corrupt or incompatible index file. */
export class IndexFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexFileError';
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, the polynomial of zlib and PNG) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

/** Writes a header and typed-array sections into one file image (little-endian machines). */
export function encodeIndexFile(header: object, sections: ArrayBufferView[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  let size = 16 + json.length + pad4(json.length) + 4;
  for (const s of sections) size += 4 + s.byteLength + pad4(s.byteLength);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  let at = 16 + json.length + pad4(json.length);
  for (const s of sections) {
    view.setUint32(at, s.byteLength, true);
    out.set(new Uint8Array(s.buffer, s.byteOffset, s.byteLength), at + 4);
    at += 4 + s.byteLength + pad4(s.byteLength);
  }
  view.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

/** A decoded file image: the parsed header and each section's bytes (4-byte aligned copies). */
export interface IndexFileImage {
  header: Record<string, unknown>;
  sections: Uint8Array[];
}

/**
 * Reads a file image written by {@link encodeIndexFile}.
 *
 * @param source - names the file in messages
 * @throws IndexFileError - not an index file, another format version, truncated, or a checksum mismatch
 */
export function decodeIndexFile(bytes: Uint8Array, source = 'index'): IndexFileImage {
  const fail = (why: string) => new IndexFileError(`${source}: ${why}`);
  if (bytes.length < 20 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC)
    throw fail(`not a Tessera index file (no ${MAGIC} magic at the start)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION)
    throw fail(`format version ${version}, but this build reads version ${FORMAT_VERSION}`);
  const end = bytes.length - 4;
  if (crc32(bytes.subarray(0, end)) !== view.getUint32(end, true))
    throw fail('checksum mismatch: the file is truncated or corrupt');
  const headerLength = view.getUint32(12, true);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)));
  } catch {
    throw fail('unreadable header');
  }
  const sections: Uint8Array[] = [];
  let at = 16 + headerLength + pad4(headerLength);
  while (at < end) {
    const length = view.getUint32(at, true);
    if (at + 4 + length > end) throw fail('a section runs past the end of the file');
    sections.push(new Uint8Array(bytes.subarray(at + 4, at + 4 + length))); // a copy, aligned at 0
    at += 4 + length + pad4(length);
  }
  return { header, sections };
}

/** A section as a typed array of the expected length, or an {@link IndexFileError}. */
export function sectionAs<T extends Float32Array | Int32Array | Uint8Array>(
  image: IndexFileImage,
  index: number,
  Type: { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
  length: number,
  source = 'index',
): T {
  const bytes = image.sections[index];
  if (!bytes || bytes.byteLength !== length * Type.BYTES_PER_ELEMENT)
    throw new IndexFileError(
      `${source}: section ${index} holds ${bytes?.byteLength ?? 0} bytes, expected ${length * Type.BYTES_PER_ELEMENT}`,
    );
  return new Type(bytes.buffer as ArrayBuffer);
}
