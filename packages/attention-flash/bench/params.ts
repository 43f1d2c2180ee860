import type { FlashParams } from '../src/flash-forward.js';

/** An attention call's shape: [batch, heads, Sq, d] queries against [batch, kvHeads, Sk, d]. */
export interface AttentionShape {
  batch?: number;
  heads: number;
  kvHeads: number;
  sq: number;
  sk: number;
  d: number;
  causal: boolean;
}

/** The params `attention()` would build for an unmasked call of this shape (batch 1 unless given), `kernel: 'auto'`. */
export function shapeParams(s: AttentionShape): FlashParams {
  return {
    batch: s.batch ?? 1,
    heads: s.heads,
    kvHeads: s.kvHeads,
    sq: s.sq,
    sk: s.sk,
    headDim: s.d,
    scale: 1,
    causal: s.causal,
    window: 0,
    hasMask: false,
    documents: false,
    kvCapacity: s.sk,
    kernel: 'auto',
  };
}
