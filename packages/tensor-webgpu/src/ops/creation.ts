import { type Device, getDefaultDevice } from '../device.js';
import { assertDType, type DType } from '../dtype.js';
import { checkOptions } from '../errors.js';
import { nextSeed, normals, uniforms } from '../rng.js';
import { assertShape, formatShape, type Shape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';

const CREATE_OPTIONS = ['dtype', 'device', 'requiresGrad'] as const;

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

export interface TensorOptions extends CreateOptions {
  /** Shape of flat data; inferred from nested arrays when omitted. */
  shape?: readonly number[];
}

export type NestedArray = number | readonly NestedArray[];

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0] as NestedArray;
  }
  return shape;
}

function flatten(data: NestedArray, shape: Shape, depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (typeof data !== 'number')
      throw new TypeError(`tensor: expected a number at depth ${depth}, got ${typeof data}`);
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new TypeError(
      `tensor: ragged nested array (expected length ${shape[depth]} at depth ${depth})`,
    );
  }
  for (const v of data) flatten(v, shape, depth + 1, out);
}

function make(
  device: Device,
  shape: Shape,
  dtype: DType,
  data: ArrayLike<number> | undefined,
  requiresGrad = false,
): Tensor {
  const t = new Tensor(device, device.allocate(dtype, sizeOf(shape), data), [...shape], dtype);
  t.requiresGrad = requiresGrad;
  return t;
}

/**
 * A tensor from nested arrays, a flat array or a typed array (with `shape`).
 * The dtype defaults to i32 for Int32Array, u32 for Uint32Array, else f32.
 */
export function tensor(data: NestedArray | ArrayLike<number>, options: TensorOptions = {}): Tensor {
  checkOptions('tensor', options, [...CREATE_OPTIONS, 'shape']);
  const device = options.device ?? getDefaultDevice();
  const typed = ArrayBuffer.isView(data);
  const dtype = assertDType(
    options.dtype ??
      (data instanceof Int32Array ? 'i32' : data instanceof Uint32Array ? 'u32' : 'f32'),
    'tensor: dtype',
  );
  let flat: ArrayLike<number>;
  let shape: number[];
  if (typed) {
    flat = data as ArrayLike<number>;
    shape = options.shape ? assertShape(options.shape, 'tensor: shape') : [flat.length];
  } else {
    shape = options.shape
      ? assertShape(options.shape, 'tensor: shape')
      : inferShape(data as NestedArray);
    const list: number[] = [];
    if (options.shape && Array.isArray(data) && data.every((v) => typeof v === 'number'))
      list.push(...(data as number[]));
    else
      flatten(
        data as NestedArray,
        options.shape ? inferShape(data as NestedArray) : shape,
        0,
        list,
      );
    flat = list;
  }
  if (flat.length !== sizeOf(shape)) {
    throw new RangeError(
      `tensor: ${flat.length} values do not fill shape ${formatShape(shape)} (${sizeOf(shape)} elements)`,
    );
  }
  return make(device, shape, dtype, flat, options.requiresGrad);
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  checkOptions('full', options, CREATE_OPTIONS);
  const s = assertShape(shape, 'full: shape');
  const dtype = assertDType(options.dtype ?? 'f32', 'full: dtype');
  const data = new Float64Array(sizeOf(s)).fill(value);
  return make(options.device ?? getDefaultDevice(), s, dtype, data, options.requiresGrad);
}

export function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  checkOptions('zeros', options, CREATE_OPTIONS);
  return full(shape, 0, options);
}

export function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  checkOptions('ones', options, CREATE_OPTIONS);
  return full(shape, 1, options);
}

export function zerosLike(x: Tensor): Tensor {
  return full(x.shape, 0, { dtype: x.dtype, device: x.device });
}

export function onesLike(x: Tensor): Tensor {
  return full(x.shape, 1, { dtype: x.dtype, device: x.device });
}

/** `[start, start + step, ...)` up to `end` (exclusive), like `torch.arange`. */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  checkOptions('arange', options, CREATE_OPTIONS);
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0) throw new RangeError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const data = Array.from({ length: n }, (_, i) => start + i * step);
  const integral = [start, end, step].every(Number.isInteger);
  const dtype = options.dtype ?? (integral ? 'i32' : 'f32');
  return make(options.device ?? getDefaultDevice(), [n], dtype, data, options.requiresGrad);
}

export interface RandomOptions extends CreateOptions {
  /** Philox key; by default drawn from the global seed (`manualSeed`). */
  seed?: number;
}

/** Uniform samples in [0, 1). The same seed gives the same numbers on every backend. */
export function rand(shape: readonly number[], options: RandomOptions = {}): Tensor {
  checkOptions('rand', options, [...CREATE_OPTIONS, 'seed']);
  const s = assertShape(shape, 'rand: shape');
  return make(
    options.device ?? getDefaultDevice(),
    s,
    options.dtype ?? 'f32',
    uniforms(sizeOf(s), options.seed ?? nextSeed()),
    options.requiresGrad,
  );
}

/** Standard normal samples (mean 0, std 1). */
export function randn(shape: readonly number[], options: RandomOptions = {}): Tensor {
  checkOptions('randn', options, [...CREATE_OPTIONS, 'seed']);
  const s = assertShape(shape, 'randn: shape');
  return make(
    options.device ?? getDefaultDevice(),
    s,
    options.dtype ?? 'f32',
    normals(sizeOf(s), options.seed ?? nextSeed()),
    options.requiresGrad,
  );
}

/** Integers uniform in [low, high), as i32. */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  options: RandomOptions = {},
): Tensor {
  checkOptions('randint', options, [...CREATE_OPTIONS, 'seed']);
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new RangeError(`randint: expected integers low < high, got low=${low}, high=${high}`);
  }
  const s = assertShape(shape, 'randint: shape');
  const u = uniforms(sizeOf(s), options.seed ?? nextSeed());
  const data = Array.from(u, (v) => low + Math.floor(v * (high - low)));
  return make(options.device ?? getDefaultDevice(), s, options.dtype ?? 'i32', data, false);
}
