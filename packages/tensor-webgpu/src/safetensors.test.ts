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

describe('safetensors errors', () => {
  it('a truncated file names what is missing', () => {
    expect(() => T.loadSafetensors(file.subarray(0, 5), { device: cpu })).toThrow(
      /file too short \(5 bytes/,
    );
    expect(() => T.loadSafetensors(file.subarray(0, 40), { device: cpu })).toThrow(
      /header length \d+ runs past the end of the file \(40 bytes\)/,
    );
    expect(() => T.loadSafetensors(file.subarray(0, file.length - 4), { device: cpu })).toThrow(
      /outside the \d+ data bytes \(truncated file\?\)/,
    );
  });

  it('a corrupt header or an unknown dtype is a clear error', () => {
    const bad = file.slice();
    bad[8] = 0x7b + 1; // '{' -> '|'
    expect(() => T.loadSafetensors(bad, { device: cpu })).toThrow(/header is not valid JSON/);
    const text = new TextEncoder().encode(
      JSON.stringify({ x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }),
    );
    const custom = new Uint8Array(8 + text.length + 8);
    new DataView(custom.buffer).setBigUint64(0, BigInt(text.length), true);
    custom.set(text, 8);
    expect(() => T.loadSafetensors(custom, { device: cpu })).toThrow(
      /tensor "x" has dtype "C64"; supported: F32, F16, BF16/,
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
