/**
 * @packageDocumentation
 * Vision Transformers on the Tessera stack: patch embedding as one matmul over unfolded patches,
 * a class token, learned or 2-D rotary positions, the transformer's bidirectional trunk, a
 * classifier on the class token or mean-pooled patches, dropout and stochastic depth, attention
 * rollout, and a projector from patch features into a language model's embedding space.
 */
export { type ResolvedViTConfig, resolveViTConfig, trunkConfig, type ViTConfig } from './config.js';
export { PatchEmbedding, type PatchEmbeddingOptions, unfoldPatches } from './patch-embedding.js';
export { PatchRope, type PatchRopeOptions } from './patch-rope.js';
export { VisionProjector, type VisionProjectorOptions } from './projector.js';
export { attentionRollout } from './rollout.js';
export { ViT, ViTEmbeddings } from './vit.js';
