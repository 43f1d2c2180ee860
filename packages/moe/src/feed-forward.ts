import { checkOptions, type Device } from '@tessera/tensor-webgpu';
import { MOE_KEYS, MoE, type MoEOptions } from './moe.js';

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

/** The `MoE` options a model fixes itself, from its block's spec. */
const FROM_SPEC: readonly (keyof MoEOptions)[] = ['dim', 'std', 'projStd', 'seed', 'device'];

/**
 * `MoE` options a model does not fix itself; `hidden` (one expert's width) defaults to the
 * model's FFN width. Plain JSON values only, so a model config that holds them (the
 * transformer's `ffn: 'moe'` with a `moe` block) survives a checkpoint's JSON.
 */
export type MoEFeedForwardOptions = Omit<
  MoEOptions,
  'dim' | 'std' | 'projStd' | 'seed' | 'device' | 'hidden'
> & {
  hidden?: number;
};

const FEED_FORWARD_KEYS = MOE_KEYS.filter((k) => !(FROM_SPEC as readonly string[]).includes(k));

/**
 * A feed-forward factory for `@tessera/transformer`'s config (`ffn: moeFeedForward({...})`):
 * every block gets an `MoE` of the model's width, init and seed, with these options.
 * Fine-grained experts (DeepSeekMoE) split each expert m ways: `experts` × m, `hidden` / m and
 * `topK` × m keep the compute per token while multiplying the combinations.
 *
 * @throws TypeError - an unknown option (at once, naming the known ones)
 * @throws TypeError, RangeError - a bad value, as `MoE`, when a block is built
 */
export function moeFeedForward(options: MoEFeedForwardOptions): (spec: MoEBlockSpec) => MoE {
  checkOptions('moeFeedForward', options, FEED_FORWARD_KEYS);
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
