/**
 * A toy policy for the step functions' tests: a trainable bigram table as the `CausalLM` (the
 * logits of the next token are the row of the last token), so one-token completions of a
 * one-token prompt are a multi-armed bandit.
 */
import type { CausalLM } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';

/** logits[b, t] = table[ids[b, t]]; the table is a trainable parameter [V, V]. */
export class BigramPolicy implements CausalLM {
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
  /** A frozen copy with the same weights (a reference model). */
  copy(): BigramPolicy {
    const twin = new BigramPolicy(this.device, this.vocabSize, 0);
    T.noGrad(() => twin.table.copy_(this.table));
    twin.table.requiresGrad = false;
    return twin;
  }
}
