import type { Tensor } from '@tessera/tensor-webgpu';

/**
 * The one thing the sampler needs from a model (the transformer package implements it):
 * next-token logits for a batch of id sequences. With a cache, `forward` takes only the new
 * tokens and remembers the rest.
 */
export interface CausalLM {
  readonly vocabSize: number;
  /** ids [batch, T] (i32) → logits [batch, T, vocabSize]. */
  forward(ids: Tensor, cache?: unknown): Tensor;
  /** A fresh cache for `batch` sequences of up to `maxLength` tokens, when the model supports one. */
  createCache?(batch: number, maxLength: number): unknown;
  /** The longest context the model takes; generation keeps to a window of it (as nanoGPT crops). */
  readonly maxSequenceLength?: number;
}

/** Text ↔ ids, as the tokenizer package provides (for stop sequences and text output). */
export interface TextCodec {
  encode(text: string): ArrayLike<number>;
  decode(ids: Iterable<number>): string;
}
