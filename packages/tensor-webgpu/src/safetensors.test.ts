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
const { cases } = JSON.parse(readFileSync(new URL('cases.json', casesDir), 'utf8')) as {
  cases: { file: string; rule: string; accept: boolean }[];
};
/** The rules as the reader quotes them, by the names the fixture script gives them. */
const RULE_TEXT: Record<string, string> = {
  tooShort: 'the file starts with an 8-byte header length',
  headerLimit: 'the header is at most 100,000,000 bytes',
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
};
const named = cases.map((c) => ({
  ...c,
  text: RULE_TEXT[c.rule]!,
  decision: c.accept ? 'accepts' : 'rejects',
}));

describe('safetensors header rules (decisions of the reference reader)', () => {
  for (const { file: name, accept, text, decision } of named)
    it(`rule "${text}": ${decision} ${name}`, () => {
      const bytes = new Uint8Array(readFileSync(new URL(name, casesDir)));
      const read = () => T.readSafetensorsHeader(bytes, { name });
      if (accept) expect(read).not.toThrow();
      else expect(read).toThrow(`safetensors "${name}": `);
      if (!accept) expect(read).toThrow(`(rule: ${text})`);
    });

  it('names the tensor that breaks a rule', () => {
    const read = (name: string) => () =>
      T.readSafetensorsHeader(new Uint8Array(readFileSync(new URL(name, casesDir))));
    expect(read('gap-between-tensors.safetensors')).toThrow(
      'safetensors: tensor "b" begins at byte 8, leaving a gap after tensor "a", which ends at byte 4',
    );
    expect(read('overlapping-tensors.safetensors')).toThrow(
      'tensor "b" begins at byte 4, overlapping tensor "a"',
    );
    expect(read('entry-without-shape.safetensors')).toThrow('tensor "a" has no shape');
    expect(read('size-differs-from-shape.safetensors')).toThrow(
      'tensor "a" of shape [2, 2] (I32) needs 16 bytes, its data_offsets span 4',
    );
    expect(read('trailing-bytes.safetensors')).toThrow('2 bytes follow the last tensor');
    expect(read('header-null.safetensors')).toThrow('header is null');
    expect(read('header-array.safetensors')).toThrow('header is an array');
    expect(read('metadata-number-value.safetensors')).toThrow('metadata "step" is 12');
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
