import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { digitPng, mnistDigit, readPngDigit } from './digit-image.js';
import { readMnist } from './mnist.js';
import { tempDir } from './test-utils/fixtures.js';

const digits = readMnist();

/** Writes a PNG of `width`×`height` whose pixel i has the RGBA `rgba(i)`. */
function png(path: string, width: number, height: number, rgba: (i: number) => number[]): string {
  const image = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) image.data.set(rgba(i), 4 * i);
  writeFileSync(path, PNG.sync.write(image));
  return path;
}

describe('digit images', () => {
  it('an MNIST digit written as PNG reads back as the same pixels', () => {
    const seven = mnistDigit(digits, 0);
    expect(seven).toMatchObject({ label: 7, rows: 28, cols: 28, source: 'MNIST digit 0' });
    const path = join(tempDir('tessera-png-'), 'seven.png');
    writeFileSync(path, digitPng(seven));
    expect([...readPngDigit(path, 28, 28).pixels]).toEqual([...seven.pixels]);
  });

  it('turns colour to grey, lays transparency over white, and inverts dark ink on paper', () => {
    const dir = tempDir('tessera-png-');
    // Dark red ink (R 200) on a white page, in the top-left pixel only.
    const paper = readPngDigit(
      png(join(dir, 'paper.png'), 2, 2, (i) => (i === 0 ? [200, 0, 0, 255] : [255, 255, 255, 255])),
      2,
      2,
    );
    expect([...paper.pixels]).toEqual([255 - Math.round(0.299 * 200), 0, 0, 0]);
    // Fully transparent pixels are white paper; a half-transparent black one is mid-grey.
    const clear = readPngDigit(
      png(join(dir, 'clear.png'), 2, 2, (i) => (i === 0 ? [0, 0, 0, 128] : [0, 0, 0, 0])),
      2,
      2,
    );
    expect([...clear.pixels]).toEqual([255 - Math.round((255 * 127) / 255), 0, 0, 0]);
  });

  it('names a file that is not a PNG or not of the model size, and an index out of range', () => {
    const dir = tempDir('tessera-png-');
    const text = join(dir, 'digit.png');
    writeFileSync(text, 'not an image');
    expect(() => readPngDigit(text, 28, 28)).toThrow(`${text}: not a readable PNG`);
    const big = png(join(dir, 'big.png'), 32, 30, () => [0, 0, 0, 255]);
    expect(() => readPngDigit(big, 28, 28)).toThrow(
      `${big}: the image is 32×30 pixels; the model reads 28×28 (resize it first)`,
    );
    expect(() => mnistDigit(digits, 10_000)).toThrow(
      'MNIST digit 10000: expected an index in 0..9999',
    );
  });
});
