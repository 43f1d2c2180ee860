export * from './binary.js';
export * from './creation.js';
export * from './matmul.js';
export * from './reduce.js';
export * from './slice-scatter.js';
export * from './unary.js';
export * from './view.js';
