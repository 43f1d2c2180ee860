// tfjs-core and its wasm backend for the browser page, bundled by esbuild. Plain JavaScript with
// its own declarations (tfjs.d.ts): tfjs's typings carry an older @webgpu/types that would clash
// with ours if the type checker saw them.

export { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
export * as tf from '@tensorflow/tfjs-core';
