import { type Device, getDefaultDevice } from './device.js';
import type { DType } from './dtype.js';
import { checkOptions } from './errors.js';
import { f16BitsToF32, f32ToF16Bits } from './f16.js';
import { tensor } from './ops/creation.js';
import { JsonSyntaxError, type JsonValue, parseJson } from './safetensors-json.js';
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
/** The reference reader reads sizes and offsets as 64-bit unsigned integers. */
const U64_MAX = 2n ** 64n - 1n;

/**
 * The rules a safetensors file must follow, as Hugging Face's reference reader (the `safetensors`
 * crate) applies them; every rejection quotes one.
 */
const RULE = {
  tooShort: 'the file starts with an 8-byte header length',
  headerLimit: `the header is at most ${MAX_HEADER_BYTES.toLocaleString('en-US')} bytes`,
  headerInFile: 'the header lies within the file',
  utf8: 'the header is UTF-8',
  json: 'the header is JSON as serde_json reads it: no byte-order mark, no lone surrogate escape, nesting at most 127 deep, numbers within the f64 range',
  object: 'the header is a JSON object',
  metadata: '__metadata__ appears at most once and maps names to strings',
  entry:
    'each tensor is an object giving dtype, shape and data_offsets once each, or a [dtype, shape, data_offsets] list',
  dtype: 'dtype is a safetensors dtype name',
  shape: 'shape is a list of integers from 0 to 2^64 - 1, written in digits only',
  offsets: 'data_offsets is [begin, end], two integers from 0 to 2^64 - 1 written in digits only',
  contiguous: 'tensors cover the data section in order, from byte 0, without gaps or overlaps',
  overflow:
    'the element count and the bit count of a tensor, multiplied out in order, stay below 2^64',
  byteAligned: 'a tensor fills whole bytes',
  size: 'end - begin is the product of the shape times the dtype size',
  covered: 'the data section ends where the last tensor ends',
} as const;

/** One entry of a safetensors header. */
export interface SafetensorsEntry {
  dtype: string;
  /**
   * The dimensions. A dimension above 2^53 − 1 (possible only in a tensor with a zero
   * dimension) is rounded to the nearest double; `loadSafetensors` refuses such a tensor.
   */
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
type Fail = ReturnType<typeof reporter>;

/** An entry as the checks see it: sizes exact, as the reference reader's 64-bit integers. */
interface Checked {
  name: string;
  dtype: string;
  shape: bigint[];
  begin: bigint;
  end: bigint;
}

/** A JSON value as messages quote it, cut short when long. */
const describe = ({ text }: JsonValue) => (text.length > 60 ? `${text.slice(0, 59)}…` : text);
const formatDims = (shape: bigint[]) => `[${shape.join(', ')}]`;

/**
 * Reads and validates the header of a safetensors file: an 8-byte little-endian length N, N
 * bytes of JSON, then the data section. It accepts exactly the files that Hugging Face's
 * reference reader accepts (`safetensors` 0.8, `SafeTensors::deserialize`, whose JSON is read by
 * serde_json): the header is a UTF-8 JSON object of at most 100,000,000 bytes (JSON whitespace
 * may pad it; a byte-order mark may not), read as strictly as serde_json reads it (see
 * `safetensors-json.ts`); `__metadata__`, given at most once, maps names to strings (a name given
 * twice keeps its last value) or is null; every other key is a tensor, either an object with
 * `dtype`, `shape` and `data_offsets` once each (other fields are ignored) or a list
 * `[dtype, shape, data_offsets]`, with a known `dtype` (a name, or the name as the only key of an
 * object whose value is null), a `shape` of integers from 0 to 2^64 − 1 written in digits only,
 * and `data_offsets` [begin, end] likewise; a tensor name given twice keeps its last entry (both
 * must be well-formed); multiplied out in order, element count and bit count stay below 2^64 and
 * the span is the shape's byte size; taken by offset, the tensors tile the data section from
 * byte 0 to its last byte with no gap or overlap (zero-size tensors may sit anywhere).
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
    const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    text = utf8.decode(bytes.subarray(8, 8 + length));
  } catch {
    throw fail('header is not valid UTF-8', 'utf8');
  }
  let root: JsonValue;
  try {
    root = parseJson(text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    throw fail(`header is not valid JSON: ${e.message}`, 'json');
  }
  if (root.kind !== 'object') throw fail(`header is ${describe(root)}`, 'object');

  const metadata: Record<string, string> = Object.create(null);
  const entries = new Map<string, Checked>();
  let sawMetadata = false;
  for (const [name, value] of root.entries) {
    if (name === '__metadata__') {
      if (sawMetadata) throw fail('__metadata__ appears twice', 'metadata');
      sawMetadata = true;
      readMetadata(value, metadata, fail);
    } else entries.set(name, checkEntry(name, value, fail));
  }
  const dataLength = BigInt(bytes.byteLength - 8 - length);
  const end = checkLayout([...entries.values()], fail);
  if (end !== dataLength) {
    throw fail(
      end > dataLength
        ? `the tensors need ${end} data bytes, the file has ${dataLength} (truncated file?)`
        : `${dataLength - end} bytes follow the last tensor`,
      'covered',
    );
  }
  const tensors: Record<string, SafetensorsEntry> = Object.create(null);
  for (const { name, dtype, shape, begin, end } of entries.values())
    tensors[name] = { dtype, shape: shape.map(Number), data_offsets: [Number(begin), Number(end)] };
  return { tensors, metadata, dataStart: 8 + length };
}

/** Copies `__metadata__` into `into`; null means no metadata, as in the reference reader. */
function readMetadata(raw: JsonValue, into: Record<string, string>, fail: Fail): void {
  if (raw.kind === 'literal' && raw.text === 'null') return;
  if (raw.kind !== 'object') throw fail(`__metadata__ is ${describe(raw)}`, 'metadata');
  for (const [key, value] of raw.entries) {
    if (value.kind !== 'string')
      throw fail(`metadata ${JSON.stringify(key)} is ${describe(value)}`, 'metadata');
    into[key] = value.value;
  }
}

const FIELDS = ['dtype', 'shape', 'data_offsets'] as const;
type Field = (typeof FIELDS)[number];

/** Checks the fields of one entry, given as an object or as a [dtype, shape, data_offsets] list. */
function checkEntry(name: string, raw: JsonValue, fail: Fail): Checked {
  const tensor = `tensor ${JSON.stringify(name)}`;
  const fields: Partial<Record<Field, JsonValue>> = {};
  if (raw.kind === 'array') {
    if (raw.items.length !== FIELDS.length)
      throw fail(`${tensor} is a list of ${raw.items.length} items`, 'entry');
    [fields.dtype, fields.shape, fields.data_offsets] = raw.items;
  } else if (raw.kind === 'object') {
    for (const [key, value] of raw.entries) {
      const field = FIELDS.find((f) => f === key);
      if (field === undefined) continue; // the reference reader ignores other fields
      if (fields[field]) throw fail(`${tensor} gives ${field} twice`, 'entry');
      fields[field] = value;
    }
  } else throw fail(`${tensor} is ${describe(raw)}`, 'entry');
  const { dtype, shape, data_offsets: offsets } = fields;
  if (!dtype || !shape || !offsets) {
    const missing = FIELDS.filter((f) => !fields[f]).join(', ');
    throw fail(`${tensor} has no ${missing}`, 'entry');
  }
  const dtypeName = readDtype(dtype);
  if (dtypeName === undefined) throw fail(`${tensor} has dtype ${describe(dtype)}`, 'dtype');
  const dims = shape.kind === 'array' ? shape.items.map(readU64) : [undefined];
  if (!dims.every((d) => d !== undefined))
    throw fail(`${tensor} has shape ${describe(shape)}`, 'shape');
  const span = offsets.kind === 'array' ? offsets.items.map(readU64) : [];
  const [begin, end] = span;
  if (span.length !== 2 || begin === undefined || end === undefined)
    throw fail(`${tensor} has data_offsets ${describe(offsets)}`, 'offsets');
  return { name, dtype: dtypeName, shape: dims, begin, end };
}

/** A dtype as serde reads the reference reader's enum: `"F32"`, or `{"F32": null}`. */
function readDtype(raw: JsonValue): string | undefined {
  let name: string | undefined;
  if (raw.kind === 'string') name = raw.value;
  else if (raw.kind === 'object' && raw.entries.length === 1) {
    const [key, value] = raw.entries[0]!;
    if (value.kind === 'literal' && value.text === 'null') name = key;
  }
  return name !== undefined && Object.hasOwn(BITS, name) ? name : undefined;
}

/** A JSON number the reference reader reads as a 64-bit unsigned integer: digits only, < 2^64. */
function readU64(raw: JsonValue): bigint | undefined {
  if (raw.kind !== 'number' || !/^\d+$/.test(raw.text)) return undefined;
  const n = BigInt(raw.text);
  return n <= U64_MAX ? n : undefined;
}

/** Checks that the entries tile the data section; returns where the last one ends. */
function checkLayout(entries: Checked[], fail: Fail): bigint {
  const compare = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
  const byOffset = [...entries].sort((a, b) => compare(a.begin, b.begin) || compare(a.end, b.end));
  let at = 0n;
  let previous: string | undefined;
  for (const { name, dtype, shape, begin, end } of byOffset) {
    const tensor = `tensor ${JSON.stringify(name)}`;
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
    let elements = 1n;
    for (const d of shape) {
      elements *= d;
      if (elements > U64_MAX)
        throw fail(`${tensor} of shape ${formatDims(shape)} has too many elements`, 'overflow');
    }
    const bits = elements * BigInt(BITS[dtype]!);
    if (bits > U64_MAX)
      throw fail(`${tensor} (${dtype}, shape ${formatDims(shape)}) has too many bits`, 'overflow');
    if (bits % 8n !== 0n)
      throw fail(
        `${tensor} (${dtype}, shape ${formatDims(shape)}) has ${bits} bits`,
        'byteAligned',
      );
    if (end - begin !== bits / 8n) {
      throw fail(
        `${tensor} of shape ${formatDims(shape)} (${dtype}) needs ${bits / 8n} bytes, its data_offsets span ${end - begin}`,
        'size',
      );
    }
  }
  return at;
}

function decode(entry: SafetensorsEntry, raw: Uint8Array, name: string): ArrayLike<number> {
  // A copy at offset 0 (typed arrays need offsets that are multiples of their element size). Not
  // `raw.slice()`: on a Node Buffer that is a view into the shared pool, not a copy.
  const copy = new Uint8Array(raw);
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
 * @throws Error - a file the reference reader rejects, a dtype Tessera does not load, a
 *   dimension above 2^53 − 1 (in a tensor with no elements), an I64 value outside the i32 range;
 *   the message names the file (given `name`) and the tensor
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
    if (!entry.shape.every(Number.isSafeInteger)) {
      throw fail(
        `tensor ${JSON.stringify(name)} has a dimension above 2^53 - 1 (shape ${formatShape(entry.shape)}), which Tessera does not load`,
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
          `saveSafetensors: metadata ${JSON.stringify(key)} must be a string, got ${JSON.stringify(value)}`,
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
