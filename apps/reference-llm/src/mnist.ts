import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import * as T from '@tessera/tensor-webgpu';

/** The bundled MNIST test split (10,000 digits; see data/mnist/README.md for its attribution). */
export const MNIST_FILES = {
  images: new URL('../data/mnist/t10k-images-idx3-ubyte.gz', import.meta.url),
  labels: new URL('../data/mnist/t10k-labels-idx1-ubyte.gz', import.meta.url),
};

/** An IDX array of unsigned bytes: its dimensions and its values in row-major order. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Reads an IDX file (LeCun's format for MNIST), gzip-compressed or not: two zero bytes, the type
 * (0x08, unsigned byte — the only one MNIST uses), the number of dimensions, each dimension as a
 * big-endian 32-bit integer, then the values. Throws naming `name` when the header is not IDX,
 * the type is not unsigned bytes, or the data is shorter or longer than the dimensions say.
 */
export function readIdx(bytes: Uint8Array, name: string): IdxArray {
  const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? new Uint8Array(gunzipSync(bytes)) : bytes;
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0)
    throw new Error(`${name}: not an IDX file (it must start with two zero bytes)`);
  if (raw[2] !== 0x08)
    throw new Error(
      `${name}: IDX type 0x${raw[2]!.toString(16).padStart(2, '0')} is not supported (expected 0x08, unsigned bytes)`,
    );
  const rank = raw[3]!;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const header = 4 + 4 * rank;
  if (raw.length < header) throw new Error(`${name}: truncated IDX header`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const size = dims.reduce((a, b) => a * b, 1);
  if (raw.length - header !== size)
    throw new Error(
      `${name}: IDX dimensions [${dims.join(', ')}] need ${size} values, the file holds ${raw.length - header}`,
    );
  return { dims, data: raw.subarray(header) };
}

/** Digits: grey images (0 background … 255 ink) and their labels 0–9. */
export interface Digits {
  count: number;
  rows: number;
  cols: number;
  /** [count · rows · cols] bytes, row-major. */
  images: Uint8Array;
  /** [count] labels 0–9. */
  labels: Uint8Array;
}

/**
 * Reads MNIST images and labels (IDX files, default the bundled test split) and checks that
 * they fit: images [n, rows, cols], labels [n] with values 0–9. Errors name the file.
 */
export function readMnist(
  files: { images: string | URL; labels: string | URL } = MNIST_FILES,
): Digits {
  const read = (path: string | URL) => {
    const name = typeof path === 'string' ? path : fileURLToPath(path);
    try {
      return { name, bytes: new Uint8Array(readFileSync(path)) };
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  };
  const imageFile = read(files.images);
  const labelFile = read(files.labels);
  const images = readIdx(imageFile.bytes, imageFile.name);
  const labels = readIdx(labelFile.bytes, labelFile.name);
  if (images.dims.length !== 3)
    throw new Error(
      `${imageFile.name}: expected images [count, rows, cols], got dimensions [${images.dims.join(', ')}]`,
    );
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0])
    throw new Error(
      `${labelFile.name}: expected ${images.dims[0]} labels (one per image), got dimensions [${labels.dims.join(', ')}]`,
    );
  const bad = labels.data.findIndex((l) => l > 9);
  if (bad >= 0)
    throw new Error(`${labelFile.name}: label ${bad} is ${labels.data[bad]}, expected 0–9`);
  const [count, rows, cols] = images.dims as [number, number, number];
  return { count, rows, cols, images: images.data, labels: labels.data };
}

/**
 * A seeded split of `count` digits into `train` and `test` indices (disjoint, each sorted): a
 * Fisher–Yates shuffle with the app's seeded generator, the first `train` for training and the
 * next `test` held out. Throws when the two do not fit in `count`.
 */
export function splitDigits(
  count: number,
  sizes: { train: number; test: number },
  seed: number,
): { train: Int32Array; test: Int32Array } {
  if (sizes.train + sizes.test > count)
    throw new RangeError(
      `splitDigits: ${sizes.train} training + ${sizes.test} test digits exceed the ${count} available`,
    );
  const order = Int32Array.from({ length: count }, (_, i) => i);
  const rng = new T.Rng(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const sorted = (a: Int32Array) => a.slice().sort();
  return {
    train: sorted(order.subarray(0, sizes.train)),
    test: sorted(order.subarray(sizes.train, sizes.train + sizes.test)),
  };
}

/** The pixel normalisation of the PyTorch MNIST example: (x/255 − 0.1307) / 0.3081. */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

/** Grey bytes (0–255) as normalised floats. */
export function normalizePixels(bytes: ArrayLike<number>): Float32Array {
  return Float32Array.from(bytes, (v) => (v / 255 - MNIST_MEAN) / MNIST_STD);
}

/**
 * Copies a rows×cols image shifted by (dx, dy) pixels (right and down for positive values), the
 * uncovered border filled with background (0).
 */
export function shiftImage(
  image: Uint8Array,
  rows: number,
  cols: number,
  dx: number,
  dy: number,
): Uint8Array {
  const out = new Uint8Array(rows * cols);
  for (let y = 0; y < rows; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= rows) continue;
    for (let x = 0; x < cols; x++) {
      const sx = x - dx;
      if (sx >= 0 && sx < cols) out[y * cols + x] = image[sy * cols + sx]!;
    }
  }
  return out;
}

/** A batch of digits on a device: images f32 [B, 1, rows, cols] (normalised) and labels i32 [B]. */
export interface DigitBatch {
  x: T.Tensor;
  y: T.Tensor;
}

/**
 * The digits `indices` as a batch. With `shift` > 0 each image is moved by a random whole
 * number of pixels in [−shift, shift] along each axis (light augmentation), drawn from `seed`,
 * so the same seed gives the same batch.
 */
export function digitBatch(
  digits: Digits,
  indices: ArrayLike<number>,
  device: T.Device,
  augment: { shift?: number; seed?: number } = {},
): DigitBatch {
  const { rows, cols } = digits;
  const size = rows * cols;
  const shift = augment.shift ?? 0;
  const rng = new T.Rng(augment.seed ?? 0);
  const pixels = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let b = 0; b < indices.length; b++) {
    const i = indices[b]!;
    let image = digits.images.subarray(i * size, (i + 1) * size);
    if (shift > 0) {
      const draw = () => Math.floor(rng.next() * (2 * shift + 1)) - shift;
      image = shiftImage(image, rows, cols, draw(), draw());
    }
    pixels.set(image, b * size);
    labels[b] = digits.labels[i]!;
  }
  return {
    x: T.tensor(normalizePixels(pixels), { shape: [indices.length, 1, rows, cols], device }),
    y: T.tensor(labels, { device }),
  };
}
