/** The PyTorch reference of fixtures/vit-reference.json (written by fixtures/make_fixtures.py). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '@tessera/tensor-webgpu';
import type { ViTConfig } from '@tessera/vit';

interface Packed {
  shape: number[];
  data: number[];
}

/** One case: a config, its weights by parameter name, images, and the reference outputs. */
export interface ReferenceCase {
  config: ViTConfig;
  weights: Record<string, Packed>;
  images: Packed;
  /** f32 [images, classes]. */
  logits: number[];
  /** The rollout row of the token the classifier reads, over the patches: [images, patches]. */
  relevance: number[];
}

export const reference = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../fixtures/vit-reference.json'), 'utf8'),
) as Record<string, ReferenceCase>;

/** A packed array as a tensor on `device`. */
export const unpack = (p: Packed, device: T.Device) => T.tensor(p.data, { shape: p.shape, device });

/** A case's weights as tensors on `device`. */
export const weightsOf = (c: ReferenceCase, device: T.Device) =>
  Object.fromEntries(Object.entries(c.weights).map(([k, v]) => [k, unpack(v, device)]));
