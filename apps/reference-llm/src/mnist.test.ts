import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import {
  digitBatch,
  normalizePixels,
  readIdx,
  readMnist,
  shiftImage,
  splitDigits,
} from './mnist.js';
import { tempDir } from './test-utils/fixtures.js';

/** Values read from the bundled files by Python's gzip and NumPy (fixtures/make_mnist_fixture.py). */
const reference = JSON.parse(
  readFileSync(new URL('../fixtures/mnist-reference.json', import.meta.url), 'utf8'),
) as {
  imageDims: number[];
  labelDims: number[];
  labelCounts: number[];
  labels: Record<string, number>;
  pixelSums: Record<string, number>;
  shifted: { index: number; dx: number; dy: number; pixels: number[] };
  normalizedRow: { index: number; row: number; values: number[] };
};

const digits = readMnist();
const cpu = await T.createDevice({ backend: 'cpu' });

describe('MNIST files', () => {
  it('reads the bundled test split as NumPy does', () => {
    expect([digits.count, digits.rows, digits.cols]).toEqual(reference.imageDims);
    expect([digits.labels.length]).toEqual(reference.labelDims);
    const counts = new Array(10).fill(0);
    for (const l of digits.labels) counts[l]++;
    expect(counts).toEqual(reference.labelCounts);
    for (const [i, label] of Object.entries(reference.labels)) {
      const n = Number(i);
      expect(digits.labels[n]).toBe(label);
      const image = digits.images.subarray(n * 784, (n + 1) * 784);
      expect(image.reduce((s, v) => s + v, 0)).toBe(reference.pixelSums[i]);
    }
  });

  it('reads IDX with or without gzip, and names a broken file', () => {
    // A [2, 3] array: magic 0 0 8 2, dims 2 and 3, then six bytes.
    const idx = Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
    for (const bytes of [idx, new Uint8Array(gzipSync(idx))]) {
      const a = readIdx(bytes, 'x.idx');
      expect(a.dims).toEqual([2, 3]);
      expect([...a.data]).toEqual([1, 2, 3, 4, 5, 6]);
    }
    expect(() => readIdx(idx.subarray(0, 15), 'x.idx')).toThrow(
      'x.idx: IDX dimensions [2, 3] need 6 values, the file holds 3',
    );
    expect(() => readIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 0]), 'f.idx')).toThrow(
      'f.idx: IDX type 0x0d is not supported (expected 0x08, unsigned bytes)',
    );
    expect(() => readIdx(Uint8Array.from([1, 2, 3, 4]), 'p.png')).toThrow(
      'p.png: not an IDX file (it must start with two zero bytes)',
    );
    const dir = tempDir('tessera-mnist-');
    const images = join(dir, 'images.idx');
    const labels = join(dir, 'labels.idx');
    writeFileSync(images, Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9]));
    writeFileSync(labels, Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 1, 2]));
    expect(() => readMnist({ images, labels })).toThrow(
      `${labels}: expected 1 labels (one per image), got dimensions [2]`,
    );
    writeFileSync(labels, Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 1, 12]));
    expect(() => readMnist({ images, labels })).toThrow(`${labels}: label 0 is 12, expected 0–9`);
    expect(() => readMnist({ images: join(dir, 'none'), labels })).toThrow(/none: ENOENT/);
  });
});

describe('MNIST split and batches', () => {
  it('splits 8,000 / 2,000 disjointly, the same for a seed and differently for another', () => {
    const { train, test } = splitDigits(10_000, { train: 8000, test: 2000 }, 1);
    expect([train.length, test.length]).toEqual([8000, 2000]);
    expect(new Set([...train, ...test]).size).toBe(10_000);
    expect(splitDigits(10_000, { train: 8000, test: 2000 }, 1).test).toEqual(test);
    expect(splitDigits(10_000, { train: 8000, test: 2000 }, 2).test).not.toEqual(test);
    // Every class is held out in about its share (each is 9–11% of the digits).
    const held = new Array(10).fill(0);
    for (const i of test) held[digits.labels[i]!]++;
    for (const [c, n] of held.entries())
      expect(Math.abs(n / 2000 - reference.labelCounts[c]! / 10_000)).toBeLessThan(0.02);
    expect(() => splitDigits(100, { train: 80, test: 30 }, 1)).toThrow(
      'splitDigits: 80 training + 30 test digits exceed the 100 available',
    );
  });

  it('shifts and normalises as NumPy does', () => {
    const { index, dx, dy, pixels } = reference.shifted;
    const image = digits.images.subarray(index * 784, (index + 1) * 784);
    expect([...shiftImage(image, 28, 28, dx, dy)]).toEqual(pixels);
    const { row, values } = reference.normalizedRow;
    const normalized = normalizePixels(image.subarray(row * 28, (row + 1) * 28));
    for (const [i, v] of values.entries()) expect(normalized[i]).toBeCloseTo(v, 5);
  });

  it('batches digits on a device, shifted by a seeded draw', async () => {
    const plain = digitBatch(digits, [0, 4321], cpu);
    expect(plain.x.shape).toEqual([2, 1, 28, 28]);
    expect([...(await plain.y.data())]).toEqual([reference.labels['0'], reference.labels['4321']]);
    const want = normalizePixels(digits.images.subarray(4321 * 784, 4322 * 784));
    expect([...(await plain.x.data()).subarray(784)]).toEqual([...want]);
    const shifted = async (seed: number) =>
      digitBatch(digits, [0, 4321], cpu, { shift: 2, seed }).x.data();
    expect(await shifted(3)).toEqual(await shifted(3));
    expect(await shifted(3)).not.toEqual(await shifted(4));
    expect(await shifted(3)).not.toEqual(await plain.x.data());
  });
});
