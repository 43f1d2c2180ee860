/**
 * @packageDocumentation
 * The Tessera tensor core: tensors on WebGPU, on WebAssembly SIMD across the CPU's cores, or on
 * a CPU reference backend, with autograd, batched kernel submission, memory pools, and a public
 * custom-op API.
 */

export { backward, gradients, valueAndGrad } from './autograd.js';
export type { BackendStats, CpuTensor, TensorLayout } from './backend.js';
export {
  type BackendName,
  type CreateDeviceOptions,
  createDevice,
  Device,
  type DeviceInfo,
  getDefaultDevice,
  type MemoryInfo,
  setDefaultDevice,
} from './device.js';
export { type CheckKind, checkCode, checkError, checkWgsl } from './device-checks.js';
export { BYTES_PER_ELEMENT, type DType } from './dtype.js';
export { checkOptions, NoAdapterError } from './errors.js';
export { entry1d, type GpuKernel, grid1d, storageBindings, WORKGROUP } from './kernel.js';
export {
  defineOp,
  type Op,
  type OpDefinition,
  releaseTemporaries,
  runInPlace,
  type SavedForBackward,
} from './op.js';
export * from './ops/index.js';
export { formatProfile, type KernelProfile, type KernelStat } from './profile.js';
export { manualSeed, Rng } from './rng.js';
export {
  type LoadSafetensorsOptions,
  loadSafetensors,
  type ReadSafetensorsOptions,
  readSafetensorsHeader,
  type SafetensorsEntry,
  type SafetensorsHeader,
  saveSafetensors,
} from './safetensors.js';
export { isGradEnabled, keep, noGrad, type Trackable, tidy } from './scope.js';
export {
  broadcastShapes,
  contiguousStrides,
  normalizeAxes,
  normalizeAxis,
  type Shape,
  sizeOf,
  viewStrides,
} from './shape.js';
export { cpuIndexer, isDirect, MAX_RANK, stridedIndexFn, stridedUniforms } from './strided.js';
export { type GradNode, type NestedNumbers, Tensor } from './tensor.js';
export { Uniforms } from './uniforms.js';
export { WasmUnavailableError } from './wasm/wasm-backend.js';
export {
  defineWasmModule,
  PARALLEL_MIN_WORK,
  type WasmContext,
  type WasmModule,
  type WasmTensor,
} from './wasm/wasm-kernel.js';
