import { type Device, getDefaultDevice } from './device.js';
import type { DType } from './dtype.js';
import { checkOptions } from './errors.js';
import { f16BitsToF32, f32ToF16Bits } from './f16.js';
import { tensor } from './ops/creation.js';
import { formatShape } from './shape.js';
import type { Tensor } from './tensor.js';

/** Bits per element of every dtype the safetensors format names (the reference reader's list). */
const BITS: Record<string, number> = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
};
/** The safetensors dtypes Tessera loads, and what each becomes. */
const READ: Record<string, DType> = {
  F32: 'f32',
  F16: 'f16',
  BF16: 'f32',
  F64: 'f32',
  I32: 'i32',
  U32: 'u32',
  I64: 'i32',
};
const WRITE: Record<DType, string> = { f32: 'F32', f16: 'F16', i32: 'I32', u32: 'U32' };
/** The reference reader refuses headers longer than this. */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * The rules a safetensors file must follow, as Hugging Face's reference reader (the `safetensors`
 * crate) applies them; every rejection quotes one.
 */
const RULE = {
  tooShort: 'the file starts with an 8-byte header length',
  headerLimit: `the header is at most ${MAX_HEADER_BYTES.toLocaleString('en-US')} bytes`,
  headerInFile: 'the header lies within the file',
  utf8: 'the header is UTF-8',
  json: 'the header is JSON',
  object: 'the header is a JSON object, beginning with `{`',
  metadata: '__metadata__ maps names to strings',
  entry: 'each tensor is an object with dtype, shape and data_offsets',
  dtype: 'dtype is a safetensors dtype',
  shape: 'shape is a list of non-negative integers',
  offsets: 'data_offsets is [begin, end], two non-negative integers',
  contiguous: 'tensors cover the data section in order, from byte 0, without gaps or overlaps',
  overflow: 'the byte size of a tensor is representable',
  byteAligned: 'a tensor fills whole bytes',
  size: 'end - begin is the product of the shape times the dtype size',
  covered: 'the data section ends where the last tensor ends',
} as const;

/** One entry of a safetensors header. */
export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The parsed header: entries by name, the metadata strings, and where the data starts. */
export interface SafetensorsHeader {
  /** Entries by tensor name, in a null-prototype object (a tensor may be named `__proto__`). */
  tensors: Record<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  dataStart: number;
}

/** Options of `readSafetensorsHeader`. */
export interface ReadSafetensorsOptions {
  /** The file's name or path, quoted in every error (e.g. `'optimizer.safetensors'`). */
  name?: string;
}

/** Options of `loadSafetensors`. */
export interface LoadSafetensorsOptions extends ReadSafetensorsOptions {
  /** Where the tensors go; the default device when omitted. */
  device?: Device;
}

/** Builds the errors of one file: `safetensors "<name>": <what> (rule: <rule>)`. */
function reporter(name: string | undefined) {
  const where = name === undefined ? 'safetensors' : `safetensors ${JSON.stringify(name)}`;
  return (what: string, rule?: keyof typeof RULE) =>
    new Error(`${where}: ${what}${rule ? ` (rule: ${RULE[rule]})` : ''}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const describe = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

/**
 * Reads and validates the header of a safetensors file: an 8-byte little-endian length N, N
 * bytes of JSON, then the data section. It accepts exactly the files that Hugging Face's
 * reference reader accepts (`safetensors` crate, `SafeTensors::deserialize`): the header is a
 * UTF-8 JSON object of at most 100,000,000 bytes (whitespace may pad it); `__metadata__` maps
 * names to strings; every other key is a tensor with a known `dtype`, a `shape` of non-negative
 * integers and `data_offsets` [begin, end] whose span is the shape's byte size; taken by offset,
 * the tensors tile the data section from byte 0 to its last byte with no gap or overlap
 * (zero-size tensors may sit anywhere).
 *
 * @param bytes - the whole file
 * @param options - `name`: the file's name, quoted in errors
 * @throws Error - naming the file (when `name` is given), the tensor, and the rule broken
 */
export function readSafetensorsHeader(
  bytes: Uint8Array,
  options: ReadSafetensorsOptions = {},
): SafetensorsHeader {
  checkOptions('readSafetensorsHeader', options, ['name']);
  const fail = reporter(options.name);
  if (bytes.byteLength < 8) throw fail(`file too short (${bytes.byteLength} bytes)`, 'tooShort');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES))
    throw fail(`header length ${declared} is too large`, 'headerLimit');
  const length = Number(declared);
  if (8 + length > bytes.byteLength) {
    throw fail(
      `header length ${length} runs past the end of the file (${bytes.byteLength} bytes): truncated or not a safetensors file`,
      'headerInFile',
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + length));
  } catch {
    throw fail('header is not valid UTF-8', 'utf8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw fail(`header is not valid JSON (${(e as Error).message})`, 'json');
  }
  if (!isObject(parsed))
    throw fail(`header is ${Array.isArray(parsed) ? 'an array' : describe(parsed)}`, 'object');

  const metadata: Record<string, string> = Object.create(null);
  const tensors: Record<string, SafetensorsEntry> = Object.create(null);
  for (const [name, raw] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (raw === null) continue; // the reference reader reads null as no metadata
      if (!isObject(raw)) throw fail(`__metadata__ is ${describe(raw)}`, 'metadata');
      for (const [key, value] of Object.entries(raw)) {
        if (typeof value !== 'string')
          throw fail(`metadata ${JSON.stringify(key)} is ${describe(value)}`, 'metadata');
        metadata[key] = value;
      }
    } else tensors[name] = checkEntry(name, raw, fail);
  }
  const dataLength = bytes.byteLength - 8 - length;
  const end = checkLayout(tensors, fail);
  if (end !== dataLength) {
    throw fail(
      end > dataLength
        ? `the tensors need ${end} data bytes, the file has ${dataLength} (truncated file?)`
        : `${dataLength - end} bytes follow the last tensor`,
      'covered',
    );
  }
  return { tensors, metadata, dataStart: 8 + length };
}

/** Checks the fields of one entry. */
function checkEntry(
  name: string,
  raw: unknown,
  fail: ReturnType<typeof reporter>,
): SafetensorsEntry {
  const tensor = `tensor ${JSON.stringify(name)}`;
  if (!isObject(raw)) throw fail(`${tensor} is ${describe(raw)}`, 'entry');
  for (const field of ['dtype', 'shape', 'data_offsets'])
    if (!Object.hasOwn(raw, field)) throw fail(`${tensor} has no ${field}`, 'entry');
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string' || !(dtype in BITS))
    throw fail(`${tensor} has dtype ${describe(dtype)}`, 'dtype');
  if (!Array.isArray(shape) || !shape.every(isCount))
    throw fail(`${tensor} has shape ${describe(shape)}`, 'shape');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount))
    throw fail(`${tensor} has data_offsets ${describe(offsets)}`, 'offsets');
  return { dtype, shape, data_offsets: offsets as [number, number] };
}

/** Checks that the entries tile the data section; returns where the last one ends. */
function checkLayout(
  tensors: Record<string, SafetensorsEntry>,
  fail: ReturnType<typeof reporter>,
): number {
  const byOffset = Object.entries(tensors).sort(
    ([, a], [, b]) =>
      a.data_offsets[0] - b.data_offsets[0] || a.data_offsets[1] - b.data_offsets[1],
  );
  let at = 0;
  let previous: string | undefined;
  for (const [name, { dtype, shape, data_offsets }] of byOffset) {
    const tensor = `tensor ${JSON.stringify(name)}`;
    const [begin, end] = data_offsets;
    if (begin !== at || end < begin) {
      const before = `tensor ${JSON.stringify(previous)}, which ends at byte ${at}`;
      throw fail(
        end < begin
          ? `${tensor} ends (byte ${end}) before it begins (byte ${begin})`
          : previous === undefined
            ? `${tensor}, the first by offset, begins at byte ${begin} rather than 0`
            : begin > at
              ? `${tensor} begins at byte ${begin}, leaving a gap after ${before}`
              : `${tensor} begins at byte ${begin}, overlapping ${before}`,
        'contiguous',
      );
    }
    previous = name;
    at = end;
    const bits = shape.reduce((a, d) => a * d, BITS[dtype]!);
    if (!Number.isSafeInteger(bits))
      throw fail(`${tensor} of shape ${formatShape(shape)} is too large`, 'overflow');
    if (bits % 8 !== 0)
      throw fail(
        `${tensor} (${dtype}, shape ${formatShape(shape)}) has ${bits} bits`,
        'byteAligned',
      );
    if (end - begin !== bits / 8) {
      throw fail(
        `${tensor} of shape ${formatShape(shape)} (${dtype}) needs ${bits / 8} bytes, its data_offsets span ${end - begin}`,
        'size',
      );
    }
  }
  return at;
}

function decode(entry: SafetensorsEntry, raw: Uint8Array, name: string): ArrayLike<number> {
  const copy = raw.slice(); // aligned copy: typed arrays need offsets that are multiples of their size
  const n = raw.byteLength / (BITS[entry.dtype]! / 8);
  switch (entry.dtype) {
    case 'F32':
      return new Float32Array(copy.buffer, 0, n);
    case 'F16':
      return f16BitsToF32(new Uint16Array(copy.buffer, 0, n));
    case 'BF16': {
      const bits = new Uint16Array(copy.buffer, 0, n);
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = bits[i]! << 16;
      return new Float32Array(out.buffer);
    }
    case 'F64':
      return new Float64Array(copy.buffer, 0, n);
    case 'I32':
      return new Int32Array(copy.buffer, 0, n);
    case 'U32':
      return new Uint32Array(copy.buffer, 0, n);
    default: {
      const wide = new BigInt64Array(copy.buffer, 0, n);
      return Array.from(wide, (v) => {
        if (v > 2147483647n || v < -2147483648n)
          throw new RangeError(
            `I64 tensor ${JSON.stringify(name)} holds ${v}, outside the i32 range`,
          );
        return Number(v);
      });
    }
  }
}

/**
 * Loads every tensor of a safetensors file (as written by Python's `safetensors` or Tessera),
 * after validating it as `readSafetensorsHeader` does. F32, F16, I32 and U32 keep their type;
 * BF16 and F64 become f32, I64 becomes i32 (range-checked); other dtypes are refused.
 *
 * @param bytes - the whole file
 * @param options - `device` (default: the default device); `name`, the file's name, quoted in errors
 * @returns the tensors by name, in a null-prototype object (a tensor may be named `__proto__`)
 * @throws Error - a file the reference reader rejects, a dtype Tessera does not load, an I64
 *   value outside the i32 range; the message names the file (given `name`) and the tensor
 */
export function loadSafetensors(
  bytes: Uint8Array,
  options: LoadSafetensorsOptions = {},
): Record<string, Tensor> {
  checkOptions('loadSafetensors', options, ['device', 'name']);
  const fail = reporter(options.name);
  const device = options.device ?? getDefaultDevice();
  const header = readSafetensorsHeader(bytes, { name: options.name });
  const out: Record<string, Tensor> = Object.create(null);
  for (const [name, entry] of Object.entries(header.tensors)) {
    const dtype = READ[entry.dtype];
    if (!dtype) {
      throw fail(
        `tensor ${JSON.stringify(name)} has dtype ${entry.dtype}, which Tessera does not load (it loads ${Object.keys(READ).join(', ')})`,
      );
    }
    const [begin, end] = entry.data_offsets;
    const raw = bytes.subarray(header.dataStart + begin, header.dataStart + end);
    let values: ArrayLike<number>;
    try {
      values = decode(entry, raw, name);
    } catch (e) {
      throw fail((e as Error).message);
    }
    out[name] = tensor(values, { device, shape: entry.shape, dtype });
  }
  return out;
}

/**
 * Serialises tensors (and optional string metadata) to safetensors bytes, names sorted, the
 * header padded with spaces to a multiple of 8 bytes (as the reference writer does).
 *
 * @throws TypeError - a metadata value that is not a string (the format allows only strings)
 */
export async function saveSafetensors(
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<Uint8Array> {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = Object.create(null);
  if (metadata) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string')
        throw new TypeError(
          `saveSafetensors: metadata ${JSON.stringify(key)} must be a string, got ${describe(value)}`,
        );
    }
    header.__metadata__ = metadata;
  }
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    t.assertAlive(`saveSafetensors("${name}")`);
    const values = await t.data();
    const data =
      t.dtype === 'f16'
        ? halfBytes(values)
        : new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    header[name] = {
      dtype: WRITE[t.dtype],
      shape: [...t.shape],
      data_offsets: [offset, offset + data.byteLength],
    };
    blobs.push(data);
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (new TextEncoder().encode(json).byteLength % 8)) % 8);
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + text.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.byteLength), true);
  out.set(text, 8);
  let at = 8 + text.byteLength;
  for (const b of blobs) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

function halfBytes(values: ArrayLike<number>): Uint8Array {
  // f16 tensors read back as f32 values; store them as half bits again.
  const bits = f32ToF16Bits(values);
  return new Uint8Array(bits.buffer, 0, values.length * 2);
}
