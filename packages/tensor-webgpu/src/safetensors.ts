import { type Device, getDefaultDevice } from './device.js';
import type { DType } from './dtype.js';
import { f16BitsToF32, f32ToF16Bits } from './f16.js';
import { tensor } from './ops/creation.js';
import { formatShape, sizeOf } from './shape.js';
import type { Tensor } from './tensor.js';

/** safetensors dtype names Tessera reads, and what each becomes. */
const READ: Record<string, { bytes: number; dtype: DType }> = {
  F32: { bytes: 4, dtype: 'f32' },
  F16: { bytes: 2, dtype: 'f16' },
  BF16: { bytes: 2, dtype: 'f32' },
  F64: { bytes: 8, dtype: 'f32' },
  I32: { bytes: 4, dtype: 'i32' },
  U32: { bytes: 4, dtype: 'u32' },
  I64: { bytes: 8, dtype: 'i32' },
};
const WRITE: Record<DType, string> = { f32: 'F32', f16: 'F16', i32: 'I32', u32: 'U32' };

/** One entry of a safetensors header. */
export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The parsed header: entries by name, the metadata strings, and where the data starts. */
export interface SafetensorsHeader {
  tensors: Record<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  dataStart: number;
}

/** Reads and validates the header of a safetensors file (8-byte length, then JSON). */
export function readSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  if (bytes.byteLength < 8)
    throw new Error(
      `safetensors: file too short (${bytes.byteLength} bytes; the header length alone takes 8)`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = Number(view.getBigUint64(0, true));
  if (8 + length > bytes.byteLength) {
    throw new Error(
      `safetensors: header length ${length} runs past the end of the file (${bytes.byteLength} bytes): truncated or not a safetensors file`,
    );
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  } catch (e) {
    throw new Error(`safetensors: header is not valid JSON (${(e as Error).message})`);
  }
  const { __metadata__: metadata = {}, ...tensors } = parsed;
  const dataLength = bytes.byteLength - 8 - length;
  const spans: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(tensors)) {
    const entry = raw as SafetensorsEntry;
    const info = READ[entry?.dtype];
    if (!info)
      throw new Error(
        `safetensors: tensor "${name}" has dtype ${JSON.stringify(entry?.dtype)}; supported: ${Object.keys(READ).join(', ')}`,
      );
    const [begin, end] = entry.data_offsets ?? [];
    if (
      !Number.isInteger(begin) ||
      !Number.isInteger(end) ||
      begin! < 0 ||
      end! < begin! ||
      end! > dataLength
    ) {
      throw new Error(
        `safetensors: tensor "${name}" has data_offsets ${JSON.stringify(entry.data_offsets)} outside the ${dataLength} data bytes (truncated file?)`,
      );
    }
    if (end! - begin! !== sizeOf(entry.shape) * info.bytes) {
      throw new Error(
        `safetensors: tensor "${name}" of shape ${formatShape(entry.shape)} (${entry.dtype}) needs ${sizeOf(entry.shape) * info.bytes} bytes, has ${end! - begin!}`,
      );
    }
    spans.push([begin!, end!, name]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1])
      throw new Error(`safetensors: tensors "${spans[i - 1]![2]}" and "${spans[i]![2]}" overlap`);
  }
  return {
    tensors: tensors as Record<string, SafetensorsEntry>,
    metadata: metadata as Record<string, string>,
    dataStart: 8 + length,
  };
}

function decode(entry: SafetensorsEntry, raw: Uint8Array, name: string): ArrayLike<number> {
  const copy = raw.slice(); // aligned copy: typed arrays need offsets that are multiples of their size
  const n = sizeOf(entry.shape);
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
            `safetensors: I64 tensor "${name}" holds ${v}, outside the i32 range`,
          );
        return Number(v);
      });
    }
  }
}

/**
 * Loads every tensor of a safetensors file (as written by Python's `safetensors` or Tessera).
 * F32, F16, I32 and U32 keep their type; BF16 and F64 become f32, I64 becomes i32 (range-checked).
 */
export function loadSafetensors(
  bytes: Uint8Array,
  options: { device?: Device } = {},
): Record<string, Tensor> {
  const device = options.device ?? getDefaultDevice();
  const header = readSafetensorsHeader(bytes);
  const out: Record<string, Tensor> = {};
  for (const [name, entry] of Object.entries(header.tensors)) {
    const [begin, end] = entry.data_offsets;
    const raw = bytes.subarray(header.dataStart + begin, header.dataStart + end);
    out[name] = tensor(decode(entry, raw, name), {
      device,
      shape: entry.shape,
      dtype: READ[entry.dtype]!.dtype,
    });
  }
  return out;
}

/** Serialises tensors (and optional string metadata) to safetensors bytes, names sorted. */
export async function saveSafetensors(
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<Uint8Array> {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
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
