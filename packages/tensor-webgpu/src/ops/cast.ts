import { assertDType, type DType, isFloat, toInteger } from '../dtype.js';
import { defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';
import { elementwiseCpu, elementwiseWgsl } from './elementwise-kernel.js';

/**
 * Converts element types. Floats to integers truncate toward zero and saturate at the integer
 * type's range, NaN → 0 (`toInteger`); f32 to f16 rounds to nearest; i32 ↔ u32 keep the bits.
 */
const castOp = defineOp<{ dtype: DType }>({
  name: 'cast',
  stridedInputs: true,
  outputs: ([x], { dtype }) => [{ shape: x!.shape, dtype }],
  wgsl: ([x], [y], _p, info) => {
    const convert = isFloat(x!.dtype) && !isFloat(y!.dtype) ? `f32_to_${y!.dtype}` : '';
    return elementwiseWgsl('cast', [x!], y!, (a) => `${convert}(${a})`, info);
  },
  cpu: ([x], [y]) =>
    elementwiseCpu([x!], y!, isFloat(x!.dtype) ? (a) => toInteger(a, y!.dtype) : (a) => a),
  backward: ([g], { inputs: [x] }) => [isFloat(x!.dtype) ? cast(g!, x!.dtype) : null],
});

/**
 * A copy of `x` with element type `dtype` (f32, f16 where the adapter has `shader-f16`, i32,
 * u32). Floats become integers by truncation toward zero, saturating at the integer range, NaN
 * becoming 0 — one rule on every backend (PyTorch leaves these cases undefined).
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  const to = assertDType(dtype, 'cast: dtype');
  if (to === 'f16' && !x.device.info.f16) {
    throw new TypeError(
      `cast: this ${x.device.backend} adapter (${x.device.info.adapter}) lacks the shader-f16 feature`,
    );
  }
  return castOp([x], { dtype: to })[0]!;
}
