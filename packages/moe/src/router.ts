import { linearDefaultInit, Module, normalInit, parameter } from '@tessera/nn';
import {
  add,
  checkOptions,
  type Device,
  div,
  gather,
  matmul,
  mul,
  noGrad,
  rand,
  sigmoid,
  softmax,
  sum,
  type Tensor,
  transpose,
  zeros,
} from '@tessera/tensor-webgpu';
import { selectExperts } from './select-experts.js';

/**
 * How router logits become expert scores:
 * - `softmax`: a probability over the experts (Switch Transformer, Mixtral);
 * - `sigmoid`: an independent affinity per expert in (0, 1) (DeepSeek-V3).
 */
export type RouterScoring = 'softmax' | 'sigmoid';

/** Options of `TopKRouter`. */
export interface RouterOptions {
  /** Number of experts E. */
  experts: number;
  /** Experts per token k (1 ≤ k ≤ E). */
  topK: number;
  /** Default `softmax`. */
  scoring?: RouterScoring;
  /**
   * Divide the k chosen scores by their sum (Mixtral, DeepSeek-V3). Default: true when k > 1;
   * Switch Transformer (k = 1) keeps the raw probability, which is what trains its router.
   */
  normalize?: boolean;
  /** Multiplies the routing weights (DeepSeek-V3's `routed_scaling_factor`, 2.5); default 1. */
  scale?: number;
  /**
   * Multiplicative jitter on the router's input while training: x · U(1 − ε, 1 + ε) (Switch
   * Transformer, §2.4; HF's `router_jitter_noise`). Default 0 (off). Only the router sees it.
   */
  jitter?: number;
  /**
   * Keep a per-expert bias `e_score_correction_bias` [E] that is added to the scores to choose
   * the experts but not to weight them (DeepSeek-V3's auxiliary-loss-free balancing). Default false.
   */
  selectionBias?: boolean;
  /** Std of a normal initialisation of the weight; default PyTorch's uniform(±1/√dim). */
  std?: number;
  device?: Device;
  seed?: number;
}

const ROUTER_KEYS = [
  'experts',
  'topK',
  'scoring',
  'normalize',
  'scale',
  'jitter',
  'selectionBias',
  'std',
  'device',
  'seed',
] as const;

/** A router's decision for N tokens; every tensor is f32 except `indices`. */
export interface Routing {
  /** [N, E] router logits x · Wᵀ. */
  readonly logits: Tensor;
  /** [N, E] scores: softmax or sigmoid of the logits. */
  readonly scores: Tensor;
  /** [N, k] i32 chosen experts, best first (by score + bias when there is a bias). */
  readonly indices: Tensor;
  /** [N, k] routing weights: the chosen unbiased scores, normalised and scaled as configured. */
  readonly weights: Tensor;
}

/**
 * The token router (`gate`, named as Hugging Face's DeepSeek-V3): logits = x · Wᵀ with W [E, dim]
 * in f32, scores by softmax or sigmoid, the top k experts per token, and their weights.
 *
 * - Mixtral: `{ scoring: 'softmax', topK: 2 }` (renormalised over the two chosen).
 * - DeepSeek-V3: `{ scoring: 'sigmoid', topK: 8, scale: 2.5, selectionBias: true }`; its
 *   group-limited routing (`n_group`, `topk_group`) is not implemented.
 * - Switch Transformer: `{ scoring: 'softmax', topK: 1 }` (the weight is the probability).
 *
 * @throws TypeError - an unknown option or scoring
 * @throws RangeError - sizes that are not positive integers, k outside [1, E], a negative
 *   jitter or a non-finite scale
 */
export class TopKRouter extends Module {
  /** [E, dim] f32 router weight (`gate.weight`). */
  weight: Tensor;
  /** [E] f32 selection bias (`gate.e_score_correction_bias`), with `selectionBias` only. */
  e_score_correction_bias: Tensor | undefined;
  readonly experts: number;
  readonly topK: number;
  readonly scoring: RouterScoring;
  readonly normalize: boolean;
  readonly scale: number;
  readonly jitter: number;
  /** Seed of the next jitter draw; undefined: the global seed stream (`manualSeed`). */
  private noiseSeed: number | undefined;

  constructor(
    readonly dim: number,
    options: RouterOptions,
  ) {
    super();
    checkOptions('TopKRouter', options, ROUTER_KEYS);
    const { experts, topK } = options;
    positiveInteger('TopKRouter', 'dim', dim);
    positiveInteger('TopKRouter', 'experts', experts);
    if (!Number.isInteger(topK) || topK < 1 || topK > experts)
      throw new RangeError(
        `TopKRouter: topK must be an integer in [1, experts = ${experts}], got ${topK}`,
      );
    const scoring = options.scoring ?? 'softmax';
    if (scoring !== 'softmax' && scoring !== 'sigmoid')
      throw new TypeError(
        `TopKRouter: scoring must be 'softmax' or 'sigmoid', got ${JSON.stringify(scoring)}`,
      );
    const scale = options.scale ?? 1;
    if (!Number.isFinite(scale))
      throw new RangeError(`TopKRouter: scale must be a finite number, got ${scale}`);
    const jitter = options.jitter ?? 0;
    if (!(jitter >= 0 && jitter < 1))
      throw new RangeError(`TopKRouter: jitter must be in [0, 1), got ${jitter}`);
    this.experts = experts;
    this.topK = topK;
    this.scoring = scoring;
    this.normalize = options.normalize ?? topK > 1;
    this.scale = scale;
    this.jitter = jitter;
    this.noiseSeed = options.seed === undefined ? undefined : options.seed * 7919 + 17;
    const init = { device: options.device, seed: options.seed };
    this.weight = parameter(
      options.std === undefined
        ? linearDefaultInit([experts, dim], dim, init)
        : normalInit([experts, dim], options.std, init),
    );
    this.e_score_correction_bias = options.selectionBias
      ? zeros([experts], { device: options.device })
      : undefined;
  }

  /**
   * Routes N tokens `x` [N, dim] (f32). In training mode with `jitter`, the router's input is
   * multiplied by fresh noise on each call. Differentiable in `x` and `weight` through the
   * logits, scores and weights; the choice of experts itself carries no gradient.
   *
   * @throws RangeError - x not [N, dim]
   * @throws TypeError - x not f32
   */
  route(x: Tensor): Routing {
    if (x.rank !== 2 || x.shape[1] !== this.dim)
      throw new RangeError(
        `TopKRouter: x must be [tokens, ${this.dim}], got [${x.shape.join(', ')}]`,
      );
    if (x.dtype !== 'f32') throw new TypeError(`TopKRouter: x must be f32, got ${x.dtype}`);
    const input = this.training && this.jitter > 0 ? this.jittered(x) : x;
    const logits = matmul(input, transpose(this.weight));
    const scores = this.scoring === 'softmax' ? softmax(logits, -1) : sigmoid(logits);
    const bias = this.e_score_correction_bias;
    const indices = noGrad(() => selectExperts(bias ? add(scores, bias) : scores, this.topK));
    let weights = gather(scores, 1, indices);
    if (this.normalize) weights = div(weights, sum(weights, -1, { keepDim: true }));
    if (this.scale !== 1) weights = mul(weights, this.scale);
    return { logits, scores, indices, weights };
  }

  private jittered(x: Tensor): Tensor {
    const seed = this.noiseSeed;
    if (seed !== undefined) this.noiseSeed = seed + 1;
    const u = rand(x.shape, { device: x.device, seed });
    return mul(x, add(mul(u, 2 * this.jitter), 1 - this.jitter));
  }
}

export function positiveInteger(where: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${where}: ${name} must be a positive integer, got ${value}`);
}
