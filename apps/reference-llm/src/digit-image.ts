import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import type { Digits } from './mnist.js';

/** One grey digit as the models read it: ink bright on a black background, row-major bytes. */
export interface DigitImage {
  pixels: Uint8Array;
  rows: number;
  cols: number;
  /** Where it came from, for messages: the file, or "MNIST digit N". */
  source: string;
  /** The label, for a digit of the bundled MNIST file. */
  label?: number;
}

/**
 * Reads a PNG as a digit of `rows`×`cols` pixels, decoded by pngjs (every PNG colour type and
 * bit depth). Colour becomes grey by luminance (0.299 R + 0.587 G + 0.114 B), transparency is
 * laid over white, and a light background (mean above mid-grey: dark ink on paper) is inverted
 * to MNIST's bright ink on black. Throws, naming the file, when it is not a PNG or not of the
 * size the model reads.
 */
export function readPngDigit(path: string, rows: number, cols: number): DigitImage {
  let png: PNG;
  try {
    png = PNG.sync.read(readFileSync(path));
  } catch (e) {
    throw new Error(`${path}: not a readable PNG (${(e as Error).message})`);
  }
  if (png.width !== cols || png.height !== rows)
    throw new Error(
      `${path}: the image is ${png.width}×${png.height} pixels; the model reads ${cols}×${rows} (resize it first)`,
    );
  const pixels = new Uint8Array(rows * cols);
  let sum = 0;
  for (let i = 0; i < pixels.length; i++) {
    const [r, g, b, a] = [0, 1, 2, 3].map((k) => png.data[4 * i + k]!) as [
      number,
      number,
      number,
      number,
    ];
    const grey = 0.299 * r + 0.587 * g + 0.114 * b;
    pixels[i] = Math.round((grey * a + 255 * (255 - a)) / 255);
    sum += pixels[i]!;
  }
  if (sum / pixels.length > 127)
    for (let i = 0; i < pixels.length; i++) pixels[i] = 255 - pixels[i]!;
  return { pixels, rows, cols, source: path };
}

/** Digit `index` of an MNIST file, with its label. Throws on an index out of range. */
export function mnistDigit(digits: Digits, index: number): DigitImage {
  if (!Number.isInteger(index) || index < 0 || index >= digits.count)
    throw new RangeError(`MNIST digit ${index}: expected an index in 0..${digits.count - 1}`);
  const size = digits.rows * digits.cols;
  return {
    pixels: digits.images.slice(index * size, (index + 1) * size),
    rows: digits.rows,
    cols: digits.cols,
    source: `MNIST digit ${index}`,
    label: digits.labels[index],
  };
}

/** A digit as PNG bytes (8-bit RGBA, grey), the inverse of `readPngDigit` for MNIST-style images. */
export function digitPng(digit: DigitImage): Buffer {
  const png = new PNG({ width: digit.cols, height: digit.rows });
  digit.pixels.forEach((v, i) => {
    png.data.set([v, v, v, 255], 4 * i);
  });
  return PNG.sync.write(png);
}
