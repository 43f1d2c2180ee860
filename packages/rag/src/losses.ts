/**
 * @packageDocumentation
 * `@tessera/rag/losses`: what training a retrieval model needs on top of a transformer — mean
 * pooling into sentence embeddings, the bi-encoder's InfoNCE loss with in-batch negatives, and
 * the cross-encoder's listwise loss over hard negatives. Tensors are `@tessera/tensor-webgpu`'s
 * (an optional peer dependency, needed only here).
 */
export { type InfoNceOptions, infoNceLoss, l2Normalize } from './info-nce.js';
export { listwiseLoss } from './listwise-loss.js';
export { meanPool } from './mean-pool.js';
