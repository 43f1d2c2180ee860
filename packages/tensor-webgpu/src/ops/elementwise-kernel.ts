import type { CpuTensor, TensorLayout } from '../backend.js';
import type { DeviceInfo } from '../device.js';
import { type DType, wgslType } from '../dtype.js';
import { f16BitsToF32, f32ToF16Bits } from '../f16.js';
import { entry1d, type GpuKernel, grid1d, storageBindings } from '../kernel.js';
import { sizeOf } from '../shape.js';
import {
  alignedStrides,
  cpuIndexer,
  isDirect,
  MAX_RANK,
  stridedIndexFn,
  stridedUniforms,
} from '../strided.js';
import { Uniforms } from '../uniforms.js';
import { CORE_KERNELS } from '../wasm/core-kernels.js';
import { PARALLEL_MIN_WORK, type WasmContext, type WasmTensor } from '../wasm/wasm-kernel.js';

/** The type an element is computed in: floats (f16 too) in f32, integers in their own type. */
export function computeType(dtype: DType): string {
  return dtype === 'f32' || dtype === 'f16' ? 'f32' : dtype;
}

const NAMES = ['a', 'b', 'c'] as const;

/**
 * NaN handling that survives the compiler. WGSL lets implementations assume floats are never NaN,
 * so `x != x` may fold to false and `max`/`min`/`clamp` may drop a NaN operand; a NaN is
 * therefore recognised by its bits, and comparing ops follow PyTorch explicitly: `max_nan` and
 * `min_nan` propagate NaN, `unordered` is true when either operand is NaN.
 */
export const NAN_WGSL = `
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn unordered(a: f32, b: f32) -> bool { return is_nan(a) || is_nan(b); }
fn max_nan(a: f32, b: f32) -> f32 { if (is_nan(a)) { return a; } if (is_nan(b)) { return b; } return max(a, b); }
fn min_nan(a: f32, b: f32) -> f32 { if (is_nan(a)) { return a; } if (is_nan(b)) { return b; } return min(a, b); }
`;

/**
 * Float to integer conversion, one rule on both backends (`toInteger` in dtype.ts): truncate
 * toward zero, saturate at the type's range, NaN → 0 — WGSL's own rule for `i32(f32)`, written
 * out so that no driver's conversion is relied on.
 */
const FLOAT_TO_INT_WGSL = `
fn f32_to_i32(x: f32) -> i32 {
  if (is_nan(x)) { return 0; }
  if (x >= 2147483648.0) { return 2147483647; }
  if (x <= -2147483648.0) { return i32(-2147483648); }
  return i32(x);
}
fn f32_to_u32(x: f32) -> u32 {
  if (is_nan(x) || x <= 0.0) { return 0u; }
  if (x >= 4294967296.0) { return 4294967295u; }
  return u32(x);
}
`;

/** WGSL helpers an elementwise expression may call (WGSL has no erf). */
export const ELEMENTWISE_HELPERS = `${NAN_WGSL}${FLOAT_TO_INT_WGSL}
fn erf_approx(x: f32) -> f32 {
  // Abramowitz & Stegun 7.1.26, |error| < 1.5e-7.
  let t = 1.0 / (1.0 + 0.3275911 * abs(x));
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-x * x);
  return select(-y, y, x >= 0.0);
}
fn reduce_angle(x: f32) -> f32 {
  // WGSL sin/cos are only accurate on [-pi, pi].
  return x - 6.283185307179586 * round(x / 6.283185307179586);
}
fn tanh_safe(x: f32) -> f32 {
  // tanh overflows to NaN for large |x| on some drivers; it is +-1 in f32 past 10 anyway.
  // clamp may turn a NaN into a bound, so NaN passes around it.
  if (is_nan(x)) { return x; }
  return tanh(clamp(x, -10.0, 10.0));
}
fn pow_signed(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  let m = pow(abs(a), b);
  if (a >= 0.0) { return m; }
  if (fract(b) != 0.0) { var z = 0.0; return z / z; } // NaN, as a runtime value
  return select(m, -m, fract(b * 0.5) != 0.0);
}
`;

/**
 * The WGSL kernel of an n-ary elementwise op over (possibly broadcast or strided) inputs.
 * `expr` receives WGSL value names (`a`, `b`, `c`) already converted to the compute type.
 */
export function elementwiseWgsl(
  name: string,
  inputs: readonly TensorLayout[],
  output: TensorLayout,
  expr: (...v: string[]) => string,
  info?: DeviceInfo,
): GpuKernel {
  const rank = output.shape.length;
  if (rank > MAX_RANK)
    throw new RangeError(`${name}: rank ${rank} exceeds the maximum ${MAX_RANK}`);
  const n = output.shape.reduce((x, y) => x * y, 1);
  // How each input is read: `d` direct (x[i]), `c` one broadcast element, `s` strided.
  const modes = inputs.map((t) =>
    isDirect(t, output.shape) ? 'd' : sizeOf(t.shape) === 1 ? 'c' : 's',
  );
  const u = new Uniforms().u32('n', n).u32s('shape', output.shape, MAX_RANK);
  for (const [k, t] of inputs.entries()) stridedUniforms(u, NAMES[k]!, t, rank);
  const f16 = [...inputs, output].some((t) => t.dtype === 'f16');
  // Strided reads unroll over the rank, so the rank is part of the key only when one is strided.
  const ranked = modes.includes('s') ? `:r${rank}` : '';
  const key = `ew:${name}:${inputs.map((t, k) => `${t.dtype}${modes[k]}`).join(',')}>${output.dtype}${ranked}`;
  const index = (k: number) =>
    ({ d: 'i', c: `P.${NAMES[k]}_off`, s: `at_${NAMES[k]}(i)` })[modes[k]!];
  const code = () => {
    const loads = inputs
      .map((t, k) => {
        const v = NAMES[k]!;
        return `  let ${v} = ${computeType(t.dtype)}(x${v}[${index(k)}]);`;
      })
      .join('\n');
    const body = `  if (i >= P.n) { return; }\n${loads}\n  y[i] = ${wgslType(output.dtype)}(${expr(...NAMES.slice(0, inputs.length))});`;
    return `${f16 ? 'enable f16;\n' : ''}${u.declaration(inputs.length + 1)}${storageBindings(
      inputs.map((t, k) => [`x${NAMES[k]}`, wgslType(t.dtype)]),
      [['y', wgslType(output.dtype)]],
    )}${ELEMENTWISE_HELPERS}${inputs.map((_, k) => (modes[k] === 's' ? stridedIndexFn(NAMES[k]!, rank) : '')).join('')}${entry1d(body)}`;
  };
  return { key, code, uniforms: u, workgroups: grid1d(n, info) };
}

/** The CPU reference of an elementwise op: applies `fn` at every output index. */
export function elementwiseCpu(
  inputs: readonly CpuTensor[],
  output: CpuTensor,
  fn: (...v: number[]) => number,
): void {
  const n = output.data.length === 0 ? 0 : output.shape.reduce((x, y) => x * y, 1);
  const idx = inputs.map((t) => cpuIndexer(t, output.shape));
  const out = output.data;
  const [x0, x1, x2] = inputs.map((t) => t.data);
  const [i0, i1, i2] = idx;
  // The CPU holds f16 as f32 values rounded to half precision, as the GPU stores them.
  if (output.dtype === 'f16') {
    const f = fn;
    fn = (...v) => f16BitsToF32(f32ToF16Bits([f(...v)]))[0]!;
  }
  if (inputs.length === 1) for (let i = 0; i < n; i++) out[i] = fn(x0![i0!(i)]!);
  else if (inputs.length === 2) for (let i = 0; i < n; i++) out[i] = fn(x0![i0!(i)]!, x1![i1!(i)]!);
  else for (let i = 0; i < n; i++) out[i] = fn(x0![i0!(i)]!, x1![i1!(i)]!, x2![i2!(i)]!);
}

/**
 * The output's dimensions as the wasm kernels walk them: size-1 dimensions dropped, and
 * neighbours merged wherever every input steps through both as through one (a packed run).
 * Returns the shape and each input's strides over it (at least one dimension).
 */
export function collapseDims(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue;
    const last = outShape.length - 1;
    const merges = last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * size);
    if (merges) {
      outShape[last]! *= size;
      strides.forEach((s, k) => {
        outStrides[k]![last] = s[d]!;
      });
    } else {
      outShape.push(size);
      strides.forEach((s, k) => {
        outStrides[k]!.push(s[d]!);
      });
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: outShape, strides: outStrides };
}

/**
 * Runs the elementwise kernel `entry` of the core wasm module (`assembly/elementwise.ts`): f32
 * inputs, broadcast and strided, into the packed f32 output. `anyDType` is for kernels that take
 * other 4-byte elements (a copy, i32 comparisons). Returns false (the CPU reference runs) for
 * other dtypes.
 */
export function elementwiseWasm(
  entry: string,
  inputs: readonly WasmTensor[],
  output: WasmTensor,
  context: WasmContext,
  anyDType = false,
): boolean {
  if (!anyDType && [...inputs, output].some((t) => t.dtype !== 'f32')) return false;
  const rank = output.shape.length;
  const n = sizeOf(output.shape);
  // Packed inputs and single broadcast elements (a number operand) walk one dimension.
  const flat = inputs.every((t) => sizeOf(t.shape) === 1 || isDirect(t, output.shape));
  const plan = flat
    ? { shape: [n], strides: inputs.map((t) => [sizeOf(t.shape) === 1 && n !== 1 ? 0 : 1]) }
    : collapseDims(
        output.shape,
        inputs.map((t) => alignedStrides(t, rank)),
      );
  // The plan, then 16 words of room per task for its walk (see `assembly/elementwise.ts`).
  const words = [plan.shape.length, ...plan.shape, ...plan.strides.flat()];
  const table = context.scratch(4 * (words.length + 16 * context.tasks));
  context.words(table, words.length).set(words);
  const addresses = inputs.map((t) => t.address + 4 * t.offset);
  context.call(
    CORE_KERNELS,
    entry,
    [table, n, output.address, ...addresses],
    4 * n >= PARALLEL_MIN_WORK,
  );
  return true;
}
