/** Element types a tensor can hold. `f16` needs the adapter's `shader-f16` feature on WebGPU. */
export type DType = 'f32' | 'f16' | 'i32' | 'u32';

export const DTYPES: readonly DType[] = ['f32', 'f16', 'i32', 'u32'];

/** Bytes per element of each dtype. */
export const BYTES_PER_ELEMENT: Record<DType, number> = { f32: 4, f16: 2, i32: 4, u32: 4 };

export type TypedArray = Float32Array | Int32Array | Uint32Array | Uint16Array;

/** The typed array the CPU backend stores a dtype in (f16 is held as f32 values on the CPU). */
export function cpuArrayFor(dtype: DType, length: number): Float32Array | Int32Array | Uint32Array {
  switch (dtype) {
    case 'f32':
    case 'f16':
      return new Float32Array(length);
    case 'i32':
      return new Int32Array(length);
    case 'u32':
      return new Uint32Array(length);
  }
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'f32' || dtype === 'f16';
}

/** The WGSL scalar type that stores a dtype. */
export function wgslType(dtype: DType): string {
  return dtype === 'f16' ? 'f16' : dtype;
}

export function assertDType(value: unknown, argument: string): DType {
  if (typeof value === 'string' && (DTYPES as readonly string[]).includes(value)) {
    return value as DType;
  }
  throw new TypeError(
    `${argument}: expected one of ${DTYPES.join(', ')}, got ${JSON.stringify(value)}`,
  );
}

/**
 * A number as an element of `dtype`, the rule every float-to-integer conversion follows on both
 * backends (casts, and tensors created from numbers): truncate toward zero, saturate at the range
 * of i32 or u32, NaN → 0. Floats pass unchanged.
 */
export function toInteger(x: number, dtype: DType): number {
  if (isFloat(dtype)) return x;
  if (Number.isNaN(x)) return 0;
  const [lo, hi] = dtype === 'i32' ? [-2147483648, 2147483647] : [0, 4294967295];
  return Math.min(Math.max(Math.trunc(x), lo), hi);
}

/** `data` as elements of `dtype`: integers converted by `toInteger` unless already typed so. */
export function asElements(dtype: DType, data: ArrayLike<number>): ArrayLike<number> {
  if (dtype === 'i32' && !(data instanceof Int32Array))
    return Int32Array.from(data, (x) => toInteger(x, dtype));
  if (dtype === 'u32' && !(data instanceof Uint32Array))
    return Uint32Array.from(data, (x) => toInteger(x, dtype));
  return data;
}
