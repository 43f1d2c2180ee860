import type { Device } from '@tessera/tensor-webgpu';
import { MoE, type MoEOptions } from './moe.js';

/**
 * The fields of `@tessera/transformer`'s `FeedForwardSpec` (which that package owns) that a
 * mixture of experts reads. This package cannot import the transformer (the transformer may
 * import it), so it names only what it needs: any spec with these fields fits.
 */
export interface MoEBlockSpec {
  dModel: number;
  /** The model's dense FFN width; an expert's `hidden` defaults to it. */
  hidden: number;
  std: number;
  projStd: number;
  seed: number;
  device: Device;
}

/** `MoE` options a model does not fix itself; `hidden` overrides the model's FFN width. */
export type MoEFeedForwardOptions = Omit<
  MoEOptions,
  'dim' | 'hidden' | 'std' | 'projStd' | 'seed' | 'device'
> & { hidden?: number };

/**
 * A feed-forward factory for `@tessera/transformer`'s config (`ffn: moeFeedForward({...})`):
 * every block gets an `MoE` of the model's width, init and seed, with these options.
 * Fine-grained experts (DeepSeekMoE) split each expert m ways: `experts` × m, `hidden` / m and
 * `topK` × m keep the compute per token while multiplying the combinations.
 *
 * @throws TypeError, RangeError - as `MoE`, when a block is built
 */
export function moeFeedForward(options: MoEFeedForwardOptions): (spec: MoEBlockSpec) => MoE {
  return (spec) =>
    new MoE({
      ...options,
      dim: spec.dModel,
      hidden: options.hidden ?? spec.hidden,
      std: spec.std,
      projStd: spec.projStd,
      seed: spec.seed,
      device: spec.device,
    });
}
