import type { HostArray } from '../backend.js';
import type { DType } from '../dtype.js';
import { f16BitsToF32, f32ToF16Bits } from '../f16.js';

/** Elements of `dtype` as the bytes a GPU buffer holds (f16 as IEEE half bits). */
export function toGpuArray(dtype: DType, data: ArrayLike<number>): ArrayBufferView {
  switch (dtype) {
    case 'f32':
      return data instanceof Float32Array ? data : Float32Array.from(data);
    case 'i32':
      return data instanceof Int32Array ? data : Int32Array.from(data);
    case 'u32':
      return data instanceof Uint32Array ? data : Uint32Array.from(data);
    case 'f16':
      return f32ToF16Bits(data);
  }
}

/** The first `length` elements of `dtype` in bytes read back from a GPU buffer. */
export function fromGpuBytes(dtype: DType, bytes: ArrayBuffer, length: number): HostArray {
  switch (dtype) {
    case 'f32':
      return new Float32Array(bytes, 0, length);
    case 'i32':
      return new Int32Array(bytes, 0, length);
    case 'u32':
      return new Uint32Array(bytes, 0, length);
    case 'f16':
      return f16BitsToF32(new Uint16Array(bytes, 0, length));
  }
}
