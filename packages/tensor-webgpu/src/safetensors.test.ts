import { readFileSync } from 'node:fs';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();
const file = new Uint8Array(
  readFileSync(new URL('../fixtures/sample.safetensors', import.meta.url)),
);
const expected = JSON.parse(
  readFileSync(new URL('../fixtures/sample.safetensors.json', import.meta.url), 'utf8'),
);

describe.each(all)('safetensors ($info.backend)', (dev) => {
  it('loads a file written by an independent implementation (F32, F16, BF16, I64, I32)', async () => {
    const loaded = T.loadSafetensors(file, { device: dev });
    expect(Object.keys(loaded).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, e] of Object.entries(expected) as [
      string,
      { shape: number[]; values: number[] },
    ][]) {
      expect(loaded[name]!.shape).toEqual(e.shape);
      expect(Array.from(await loaded[name]!.data())).toEqual(e.values);
    }
    expect(loaded['model.norm.weight']!.dtype).toBe('f16');
    expect(loaded.position_ids!.dtype).toBe('i32');
    expect(T.readSafetensorsHeader(file).metadata).toEqual({
      format: 'pt',
      source: 'make_fixtures.py',
    });
  });

  it('reads a Node Buffer (a view into a shared pool) as the bytes it holds', async () => {
    const bytes = await T.saveSafetensors({ a: T.tensor([1, 2, 3], { device: dev }) });
    // Small Buffers share one pooled ArrayBuffer at an offset, as readFileSync's do.
    const pooled = Buffer.from(bytes);
    expect(pooled.byteOffset > 0 || pooled.buffer.byteLength > pooled.byteLength).toBe(true);
    const loaded = T.loadSafetensors(pooled, { device: dev });
    expect(Array.from(await loaded.a!.data())).toEqual([1, 2, 3]);
  });

  it('round-trips through save and load with metadata', async () => {
    const tensors = {
      'a.weight': T.randn([3, 5], { device: dev, seed: 1 }),
      ids: T.tensor(Int32Array.from([1, -2, 3]), { device: dev }),
      half: T.cast(T.tensor([0.5, -2, 1000], { device: dev }), 'f16'),
    };
    const bytes = await T.saveSafetensors(tensors, { step: '12' });
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    const back = T.loadSafetensors(bytes, { device: dev });
    for (const [name, t] of Object.entries(tensors)) {
      expect(back[name]!.dtype).toBe(t.dtype);
      expect(Array.from(await back[name]!.data())).toEqual(Array.from(await t.data()));
    }
    expect(T.readSafetensorsHeader(bytes).metadata).toEqual({ step: '12' });
  });
});

const casesDir = new URL('../fixtures/safetensors-cases/', import.meta.url);
const readCase = (name: string) => new Uint8Array(readFileSync(new URL(name, casesDir)));

/** The reference reader's record of one file (fixtures/make_safetensors_cases.py). */
interface Reference {
  accept: boolean;
  error?: string;
  tensors?: Record<string, { dtype: string; shape: string[]; data: string }>;
  metadata?: Record<string, string>;
}
const loadCases = <C>(file: string) =>
  (JSON.parse(readFileSync(new URL(file, casesDir), 'utf8')) as { cases: (C & Reference)[] }).cases;
const cases = loadCases<{ file: string; rule: string }>('cases.json');
const fuzz = loadCases<{ mutations: string[]; bytes: string }>('fuzz.json');

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * Where Tessera's reading of a file differs from the reference reader's: the decision, and for an
 * accepted file each tensor's dtype, shape (as doubles) and data bytes, and the metadata; for a
 * rejected file, an error that does not quote a rule. Empty when they agree.
 */
function disagreement(bytes: Uint8Array, reference: Reference): string | undefined {
  let header: T.SafetensorsHeader;
  try {
    header = T.readSafetensorsHeader(bytes);
  } catch (e) {
    const message = (e as Error).message;
    if (reference.accept) return `Tessera rejects: ${message}`;
    return /^safetensors: .+ \(rule: [^)]+\)$/s.test(message)
      ? undefined
      : `error without a rule: ${message}`;
  }
  if (!reference.accept) return `Tessera accepts; the reference reader: ${reference.error}`;
  const tensors = Object.fromEntries(
    Object.entries(header.tensors).map(
      ([
        name,
        {
          dtype,
          shape,
          data_offsets: [begin, end],
        },
      ]) => [
        name,
        {
          dtype,
          shape,
          data: hex(bytes.subarray(header.dataStart + begin, header.dataStart + end)),
        },
      ],
    ),
  );
  const expected = Object.fromEntries(
    Object.entries(reference.tensors!).map(([name, t]) => [
      name,
      { ...t, shape: t.shape.map(Number) },
    ]),
  );
  const read = canonical(tensors, header.metadata);
  const want = canonical(expected, reference.metadata!);
  return read === want ? undefined : `Tessera reads ${read}, the reference reader ${want}`;
}

/** Tensors and metadata as text, names sorted. */
const canonical = (tensors: object, metadata: object) => {
  const sorted = (o: object) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([sorted(tensors), sorted(metadata)]);
};

/** The rules as the reader quotes them, by the names the fixture script gives them. */
const RULE_TEXT: Record<string, string> = {
  tooShort: 'the file starts with an 8-byte header length',
  headerLimit: 'the header is at most 100,000,000 bytes',
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
};

describe('safetensors header rules (decisions of the reference reader, safetensors 0.8.0)', () => {
  for (const { file: name, rule, ...reference } of cases) {
    const decision = reference.accept ? 'accepts' : 'rejects';
    it(`rule "${rule}": ${decision} ${name}`, () => {
      const bytes = readCase(name);
      expect(disagreement(bytes, reference)).toBeUndefined();
      if (!reference.accept) {
        const read = () => T.readSafetensorsHeader(bytes, { name });
        expect(read).toThrow(`safetensors "${name}": `);
        expect(read).toThrow(`(rule: ${RULE_TEXT[rule]})`);
      }
    });
  }

  it(`agrees with the reference reader on ${fuzz.length} random header mutations`, () => {
    const disagreements = fuzz.flatMap(({ mutations, bytes, ...reference }, i) => {
      const file = new Uint8Array(Buffer.from(bytes, 'base64'));
      const why = disagreement(file, reference);
      return why === undefined ? [] : [{ case: i, mutations, why }];
    });
    expect(disagreements).toEqual([]);
    expect(fuzz.filter((c) => c.accept).length).toBeGreaterThan(50);
    expect(fuzz.filter((c) => !c.accept).length).toBeGreaterThan(50);
  });

  it('names the tensor that breaks a rule', () => {
    const read = (name: string) => () => T.readSafetensorsHeader(readCase(`${name}.safetensors`));
    expect(read('gap-between-tensors')).toThrow(
      'safetensors: tensor "b" begins at byte 8, leaving a gap after tensor "a", which ends at byte 4',
    );
    expect(read('overlapping-tensors')).toThrow(
      'tensor "b" begins at byte 4, overlapping tensor "a"',
    );
    expect(read('entry-without-shape')).toThrow('tensor "a" has no shape');
    expect(read('entry-field-given-twice')).toThrow('tensor "a" gives dtype twice');
    expect(read('entry-as-list-of-four')).toThrow('tensor "a" is a list of 4 items');
    expect(read('size-differs-from-shape')).toThrow(
      'tensor "a" of shape [2, 2] (I32) needs 16 bytes, its data_offsets span 4',
    );
    expect(read('shape-overflows-before-a-zero')).toThrow(
      'tensor "a" of shape [4611686018427387904, 4, 0] has too many elements',
    );
    expect(read('dimension-with-fraction')).toThrow('tensor "a" has shape [1.0]');
    expect(read('offset-with-exponent')).toThrow('tensor "a" has data_offsets [0,4e0]');
    expect(read('dtype-toString')).toThrow('tensor "a" has dtype "toString"');
    expect(read('trailing-bytes')).toThrow('2 bytes follow the last tensor');
    expect(read('header-null')).toThrow('header is null');
    expect(read('header-array')).toThrow('header is []');
    expect(read('metadata-number-value')).toThrow('metadata "step" is 12');
    expect(read('metadata-given-twice')).toThrow('__metadata__ appears twice');
  });

  it('says where the header JSON goes wrong', () => {
    const read = (name: string) => () => T.readSafetensorsHeader(readCase(`${name}.safetensors`));
    expect(read('header-starts-with-bom')).toThrow(
      'header is not valid JSON: a byte-order mark (U+FEFF) where a value should begin at line 1, column 1',
    );
    expect(read('key-lone-high-surrogate')).toThrow('lone surrogate escape at line 1, column 3');
    expect(read('nesting-128-deep')).toThrow('arrays and objects nested deeper than 127');
    expect(read('ignored-field-largest-double-spelled-long')).toThrow(
      'number 1.7976931348623158e308 out of range',
    );
  });

  it('a tensor given twice keeps its last entry, as in the reference reader', () => {
    const { tensors } = T.readSafetensorsHeader(readCase('tensor-twice-last-wins.safetensors'));
    expect(Object.keys(tensors)).toEqual(['a']);
    expect(tensors.a!.shape).toEqual([1]);
  });
});

describe('safetensors errors', () => {
  it('a truncated file names the file and what is missing', () => {
    const name = 'optimizer.safetensors';
    const load = (bytes: Uint8Array) => () => T.loadSafetensors(bytes, { device: cpu, name });
    expect(load(file.subarray(0, 5))).toThrow(
      'safetensors "optimizer.safetensors": file too short (5 bytes)',
    );
    expect(load(file.subarray(0, 40))).toThrow(
      /^safetensors "optimizer.safetensors": header length \d+ runs past the end of the file \(40 bytes\)/,
    );
    expect(load(file.subarray(0, file.length - 4))).toThrow(
      /^safetensors "optimizer.safetensors": the tensors need \d+ data bytes, the file has \d+ \(truncated file\?\)/,
    );
  });

  it('a dtype the format knows but Tessera does not load is refused by the loader only', () => {
    const text = new TextEncoder().encode(
      JSON.stringify({ x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }),
    );
    const custom = new Uint8Array(8 + text.length + 8);
    new DataView(custom.buffer).setBigUint64(0, BigInt(text.length), true);
    custom.set(text, 8);
    expect(T.readSafetensorsHeader(custom).tensors.x!.dtype).toBe('C64');
    expect(() => T.loadSafetensors(custom, { device: cpu, name: 'c.safetensors' })).toThrow(
      'safetensors "c.safetensors": tensor "x" has dtype C64, which Tessera does not load (it loads F32, F16, BF16',
    );
  });

  it('an I64 value outside the i32 range names the file and the tensor', () => {
    const text = new TextEncoder().encode(
      JSON.stringify({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }),
    );
    const bytes = new Uint8Array(8 + text.length + 8);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(text.length), true);
    bytes.set(text, 8);
    view.setBigInt64(8 + text.length, 1n << 40n, true);
    expect(() => T.loadSafetensors(bytes, { device: cpu, name: 'ids.safetensors' })).toThrow(
      'safetensors "ids.safetensors": I64 tensor "ids" holds 1099511627776, outside the i32 range',
    );
  });

  it('loads what the reference reader accepts: a list entry, a dtype object, empty tensors', async () => {
    const load = (name: string) =>
      T.loadSafetensors(readCase(`${name}.safetensors`), { device: cpu });
    const list = load('entry-as-list-dtype-as-object');
    expect([list.a!.dtype, list.a!.shape, Array.from(await list.a!.data())]).toEqual([
      'f32',
      [1],
      [1],
    ]);
    const empty = load('zero-size-first-middle-last');
    expect(Object.fromEntries(Object.entries(empty).map(([n, t]) => [n, t.shape]))).toEqual({
      z0: [0],
      a: [1],
      z1: [2, 0],
      b: [1],
      z2: [0, 3],
    });
  });

  it('a dimension above 2^53 - 1 passes the header check but is not loaded', () => {
    const bytes = readCase('dimension-u64-max-beside-zero.safetensors');
    expect(T.readSafetensorsHeader(bytes).tensors.a!.shape).toEqual([2 ** 64, 0]);
    expect(() => T.loadSafetensors(bytes, { device: cpu, name: 'z.safetensors' })).toThrow(
      'safetensors "z.safetensors": tensor "a" has a dimension above 2^53 - 1 (shape [18446744073709552000, 0]), which Tessera does not load',
    );
  });

  it('a tensor named __proto__ is loaded, and the result has no prototype', async () => {
    const bytes = new Uint8Array(
      readFileSync(new URL('tensor-named-__proto__.safetensors', casesDir)),
    );
    const loaded = T.loadSafetensors(bytes, { device: cpu });
    expect(Object.getPrototypeOf(loaded)).toBeNull();
    expect(Object.keys(loaded)).toEqual(['__proto__']);
    const proto = Object.getOwnPropertyDescriptor(loaded, '__proto__')?.value as T.Tensor;
    expect(Array.from(await proto.data())).toEqual([2.5]);
    const again = T.loadSafetensors(await T.saveSafetensors(loaded), { device: cpu });
    expect(Object.keys(again)).toEqual(['__proto__']);
  });

  it('options hold only known keys; metadata values are strings', async () => {
    expect(() => T.loadSafetensors(file, { device: cpu, nmae: 'x' } as never)).toThrow(
      'loadSafetensors: unknown option "nmae" (known options: device, name)',
    );
    expect(() => T.readSafetensorsHeader(file, { device: cpu } as never)).toThrow(
      'readSafetensorsHeader: unknown option "device"',
    );
    const t = { a: T.tensor([1], { device: cpu }) };
    await expect(T.saveSafetensors(t, { step: 12 } as never)).rejects.toThrow(
      'saveSafetensors: metadata "step" must be a string, got 12',
    );
  });
});

describe('pipeline cache', () => {
  it.each(all)(
    'a new shape compiles no new pipeline; warmup reports compiles ($info.backend)',
    async (dev) => {
      const step = (n: number) => () =>
        T.sum(
          T.softmax(
            T.matmul(
              T.randn([n, 8], { device: dev, seed: 1 }),
              T.randn([8, n], { device: dev, seed: 2 }),
            ),
          ),
          0,
        );
      // Shapes in one regime share every pipeline: >= 64 rows picks the same row-kernel plan,
      // >= 128 × 64 outputs the same matmul thread tile.
      const compiled = await dev.warmup(step(128));
      if (dev.backend === 'webgpu') expect(compiled).toBeGreaterThan(0);
      expect(await dev.warmup(step(199))).toBe(0);
      expect(await dev.warmup(step(300))).toBe(0);
    },
  );
});
