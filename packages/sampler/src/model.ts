import type { Device, Tensor } from '@tessera/tensor-webgpu';

/**
 * The KV cache of a `CausalLM`: `rows` sequences, each at its own length, so the rows of one
 * batch can be at different positions and a row can leave and be refilled between steps
 * (continuous batching). `DecoderCache` of `@tessera/transformer` implements it.
 */
export interface ModelCache {
  /** Sequences the cache holds. */
  readonly rows: number;
  /** Positions a row may hold. */
  readonly maxLength: number;
  /** Positions each row holds, read on the host (no GPU read-back). */
  readonly lengths: readonly number[];
  /** Forgets `row` (default: every row), freeing it for a new sequence. */
  reset(row?: number): void;
  /** Keeps the first `length` positions of `row` (speculative decoding rolls back this way). */
  truncate(row: number, length: number): void;
  /** Row i becomes a copy of old row `order[i]` (one entry per row; beam search). */
  reorder(order: readonly number[]): void;
  /** Frees the cache's memory. */
  dispose(): void;
}

/** Options of `CausalLM.forward`. */
export interface ForwardOptions<C extends ModelCache = ModelCache> {
  /** The model's cache: `ids` then hold only the new tokens, which are appended to it. */
  cache?: C;
  /** The cache rows that the rows of `ids` continue, each at its own length (default: all, in order). */
  rows?: readonly number[];
  /**
   * Sequence packing, without a cache: i32 [B, T] position ids, 0 at the start of each packed
   * example (Hugging Face's `position_ids`). A model that cannot honour packing throws.
   */
  positions?: Tensor;
  /**
   * Sequence packing, without a cache: f32 [B, T] document ids; a position attends only positions
   * of its own document. A model that cannot honour packing throws.
   */
  documentIds?: Tensor;
}

/**
 * The one thing the sampler needs from a model (the transformer package implements it): next-token
 * logits for a batch of id sequences, on the device the model lives on, with an optional typed
 * KV cache. Every consumer (generation, beam search, speculative decoding, `tokenLogprobs`, the
 * app, reinforcement learning) imports this type.
 */
export interface CausalLM<C extends ModelCache = ModelCache> {
  readonly vocabSize: number;
  /** The device the model's parameters live on; inputs are created there. */
  readonly device: Device;
  /**
   * ids i32 [B, T] → logits f32 [B, T, vocabSize], where logits[b, t] score the token after
   * ids[b, t]. With `cache`, row b of `ids` continues cache row `rows[b]` at its own length.
   */
  forward(ids: Tensor, options?: ForwardOptions<C>): Tensor;
  /** A fresh cache of `rows` sequences of up to `maxLength` positions, when the model has one. */
  createCache?(rows: number, maxLength: number): C;
  /** The longest context the model takes; generation keeps to a window of it (as nanoGPT crops). */
  readonly maxSequenceLength?: number;
}

/**
 * Text ↔ ids, for stop sequences and text output: an exact copy of the `encode`/`decode` part of
 * `@tessera/tokenizer`'s `TokenizerLike` (the sampler installs without the tokenizer);
 * `model.test.ts` fails if the two drift apart.
 */
export interface TextCodec {
  /** Text → token ids (special tokens as ordinary text unless the implementation allows them). */
  encode(text: string): number[];
  /** Token ids → text (invalid UTF-8 becomes U+FFFD). */
  decode(ids: Iterable<number>): string;
}
