/**
 * Toy models for the step functions' tests: a trainable bigram table as the `CausalLM` (logits
 * of the next token are the row of the last token) and a trainable per-token score as the
 * `ScalarModel` (a prefix's score is its last token's weight).
 */
import type { CausalLM } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import type { ScalarModel } from '../models.js';

/** logits[b, t] = table[ids[b, t]]; the table is a trainable parameter [V, V]. */
export class Bigram implements CausalLM {
  readonly table: T.Tensor;
  constructor(
    readonly device: T.Device,
    vocab: number,
    seed: number,
    scale = 1,
  ) {
    this.table = T.mul(T.randn([vocab, vocab], { device, seed }), scale).requiresGrad_();
  }
  get vocabSize(): number {
    return this.table.shape[1]!;
  }
  forward(ids: T.Tensor): T.Tensor {
    return T.embedding(this.table, ids);
  }
  /** A frozen copy with the same weights. */
  copy(): Bigram {
    const twin = new Bigram(this.device, this.vocabSize, 0);
    T.noGrad(() => twin.table.copy_(this.table));
    twin.table.requiresGrad = false;
    return twin;
  }
}

/** score[b, t] = weight[ids[b, t]]; the weight is a trainable parameter [V]. */
export class TokenScore implements ScalarModel {
  readonly weight: T.Tensor;
  constructor(
    readonly device: T.Device,
    values: number[],
  ) {
    this.weight = T.tensor(values, { device, shape: [values.length, 1] }).requiresGrad_();
  }
  forward(ids: T.Tensor): T.Tensor {
    return T.reshape(T.embedding(this.weight, ids), ids.shape);
  }
}

/** Host log-softmax of a row of logits. */
export function logSoftmax(row: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(row));
  const z = Math.log(Array.from(row).reduce((s, x) => s + Math.exp(x - max), 0)) + max;
  return Array.from(row, (x) => x - z);
}
