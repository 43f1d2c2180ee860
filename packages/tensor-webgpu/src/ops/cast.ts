import { assertDType, type DType, isFloat } from '../dtype.js';
import { defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';
import { elementwiseCpu, elementwiseWgsl } from './elementwise-kernel.js';

/** Converts element types: floats to integers truncate toward zero; f32 to f16 rounds to nearest. */
const castOp = defineOp<{ dtype: DType }>({
  name: 'cast',
  stridedInputs: true,
  outputs: ([x], { dtype }) => [{ shape: x!.shape, dtype }],
  wgsl: (inputs, [y], _p, info) => elementwiseWgsl('cast', inputs, y!, (a) => a, info),
  cpu: (inputs, [y]) => elementwiseCpu(inputs, y!, (a) => (isFloat(y!.dtype) ? a : Math.trunc(a))),
  backward: ([g], { inputs: [x] }) => [isFloat(x!.dtype) ? cast(g!, x!.dtype) : null],
});

/** A copy of `x` with element type `dtype` (f32, f16 where the adapter has `shader-f16`, i32, u32). */
export function cast(x: Tensor, dtype: DType): Tensor {
  const to = assertDType(dtype, 'cast: dtype');
  if (to === 'f16' && !x.device.info.f16) {
    throw new TypeError(
      `cast: this ${x.device.backend} adapter (${x.device.info.adapter}) lacks the shader-f16 feature`,
    );
  }
  return castOp([x], { dtype: to })[0]!;
}
