import { readFileSync } from 'node:fs';
import type { DiffusionLM } from '@tessera/dllm';
import * as T from '@tessera/tensor-webgpu';

/** A loss case of `fixtures/dllm-reference.json` (PyTorch 1.13, float64). */
export interface LossCase {
  shape: [number, number, number];
  logits: number[];
  ids: number[];
  masked: number[];
  t: number[];
  loss: number;
  grad: number[];
  nelbo: number[];
  promptLengths?: number[];
}

/** A sampler case: LLaDA's generate (temperature 0) on the toy model, written in PyTorch. */
export interface SamplerCase {
  kind: 'generate' | 'infill';
  prompt?: number[];
  prefix?: number[];
  suffix?: number[];
  length: number;
  steps?: number;
  blockLength?: number;
  threshold?: number;
  window?: number;
  tokens: number[];
  forwardPasses: number;
}

export const reference = JSON.parse(
  readFileSync(new URL('../../fixtures/dllm-reference.json', import.meta.url), 'utf8'),
) as {
  losses: { pretrain: LossCase; sft: LossCase };
  toy: { vocab: number; maskId: number; left: number[]; right: number[]; positions: number[] };
  sampler: SamplerCase[];
};

/**
 * The fixture's toy diffusion model: logits[t] = L[x[t−1]] + R[x[t+1]] + P[t] (row V of L and R
 * beyond either end), computed on the device; it counts its forward passes and canvas lengths.
 */
export class ToyDiffusionLM implements DiffusionLM {
  readonly vocabSize = reference.toy.vocab;
  readonly maskId = reference.toy.maskId;
  readonly canvases: number[] = [];
  private readonly left: T.Tensor;
  private readonly right: T.Tensor;
  private readonly positions: T.Tensor;

  constructor(
    readonly device: T.Device,
    readonly maxSequenceLength?: number,
  ) {
    const v = this.vocabSize;
    this.left = T.tensor(reference.toy.left, { shape: [v + 1, v], device });
    this.right = T.tensor(reference.toy.right, { shape: [v + 1, v], device });
    const rows = reference.toy.positions.length / v;
    this.positions = T.tensor(reference.toy.positions, { shape: [rows, v], device });
  }

  forward(ids: T.Tensor): T.Tensor {
    const [b, t] = ids.shape as [number, number];
    this.canvases.push(t);
    const edge = T.full([b, 1], this.vocabSize, { dtype: 'i32', device: this.device });
    const before = T.cat([edge, T.slice(ids, 1, 0, t - 1)], 1);
    const after = T.cat([T.slice(ids, 1, 1, t), edge], 1);
    return T.add(
      T.add(T.embedding(this.left, before), T.embedding(this.right, after)),
      T.slice(this.positions, 0, 0, t),
    );
  }
}
