// The core wasm kernels (AssemblyScript). Every export takes (thread, threads, ...args); see
// src/wasm/wasm-kernel.ts for the contract and scripts/build-wasm.ts for the build.
export * from './elementwise';
export { matmul } from './matmul';
export * from './rows';
