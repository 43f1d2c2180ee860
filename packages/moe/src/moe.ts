import { MLP, Module, SwiGLU } from '@tessera/nn';
import {
  add,
  cast,
  checkOptions,
  type Device,
  mul,
  noGrad,
  reshape,
  type Tensor,
  tidy,
  zeros,
} from '@tessera/tensor-webgpu';
import { combineTokens, dispatchTokens } from './dispatch.js';
import { type ExpertKind, Experts } from './experts.js';
import { balanceProbabilities, loadBalancingLoss, routerZLoss } from './losses.js';
import { type DispatchPlan, routeTokens } from './route-tokens.js';
import { positiveInteger, type RouterScoring, type Routing, TopKRouter } from './router.js';
import { RoutingCounter, type RoutingStats } from './routing-stats.js';
import { updateSelectionBias } from './selection-bias.js';

/** Options of `MoE`. */
export interface MoEOptions {
  /** Model width (the input's last dimension). */
  dim: number;
  /** Hidden width of one expert (`moe_intermediate_size`). */
  hidden: number;
  /** Routed experts E. */
  experts: number;
  /** Experts per token k. */
  topK: number;
  /** Router scores: `softmax` (default; Switch, Mixtral) or `sigmoid` (DeepSeek-V3). */
  scoring?: RouterScoring;
  /** Renormalise the k chosen weights to sum to 1; default true when k > 1 (see `TopKRouter`). */
  normalize?: boolean;
  /** Multiplies the routing weights (DeepSeek-V3's `routed_scaling_factor`); default 1. */
  routedScale?: number;
  /**
   * Expert capacity factor: each expert keeps at most ⌈factor · N · k / E⌉ of a forward pass's
   * N·k assignments (Switch Transformer's capacity, GShard's for k = 2); the rest are dropped and
   * those tokens' choices contribute nothing (the block's residual carries the token on).
   * Omitted (default): dropless, as Mixtral and DeepSeek-V3 — every assignment is computed.
   */
  capacityFactor?: number;
  /** Expert network: `swiglu` (default) or `gelu`. */
  expert?: ExpertKind;
  /**
   * Shared experts that every token goes through (DeepSeekMoE): one dense network of hidden
   * width sharedExperts · hidden, added to the routed output. Default 0.
   */
  sharedExperts?: number;
  /** Router input jitter while training (see `RouterOptions.jitter`); default 0. */
  jitter?: number;
  /** Weight of the load-balancing loss in `auxLoss()`; default 0.01 (Switch's α), 0 with `biasUpdateRate`. */
  loadBalanceCoef?: number;
  /** Weight of the router z-loss in `auxLoss()`; default 0.001 (ST-MoE). */
  zLossCoef?: number;
  /**
   * γ of DeepSeek-V3's auxiliary-loss-free balancing: the router gets a selection bias, which
   * `updateBias()` moves by ±γ after each step. Default: off.
   */
  biasUpdateRate?: number;
  /** Init std of the router and the experts' input projections; default PyTorch's Linear init. */
  std?: number;
  /** Init std of the experts' output projections; default `std`. */
  projStd?: number;
  device?: Device;
  seed?: number;
}

const MOE_KEYS = [
  'dim',
  'hidden',
  'experts',
  'topK',
  'scoring',
  'normalize',
  'routedScale',
  'capacityFactor',
  'expert',
  'sharedExperts',
  'jitter',
  'loadBalanceCoef',
  'zLossCoef',
  'biasUpdateRate',
  'std',
  'projStd',
  'device',
  'seed',
] as const;

/** The two auxiliary losses of a forward pass, unweighted (scalars). */
export interface MoELosses {
  /** `loadBalancingLoss`: 1 when perfectly balanced. */
  loadBalance: Tensor;
  /** `routerZLoss`. */
  zLoss: Tensor;
}

function nonNegative(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0))
    throw new RangeError(`MoE: ${name} must be a finite number >= 0, got ${value}`);
}

/**
 * A mixture-of-experts feed-forward layer: a top-k router (`gate`), E routed experts with
 * stacked weights (`experts`), optional shared experts (`shared_experts`) — Hugging Face's
 * DeepSeek-V3 names, so inside a decoder block the keys read `model.layers.3.mlp.gate.weight`.
 *
 * `forward(x)` takes [..., dim] and returns the same shape. Tokens are dispatched on the device:
 * `routeTokens` plans the permutation, `dispatchTokens` puts each expert's tokens together,
 * one grouped matmul per projection runs every expert at once, and `combineTokens` weights and
 * sums the results back in token order — no read-back, no loop over experts.
 *
 * While training, each forward pass also computes the auxiliary losses (`auxLoss()`, `losses()`)
 * and counts routing on the device (`readRoutingStats()`); with `biasUpdateRate`, it sums the
 * experts' load for `updateBias()`. In eval mode it only computes the output.
 *
 * @throws TypeError - an unknown option, scoring or expert kind
 * @throws RangeError - sizes that are not positive integers, k outside [1, E], a capacity
 *   factor that is not positive, a negative coefficient, jitter or rate
 */
export class MoE extends Module {
  gate: TopKRouter;
  experts: Experts;
  shared_experts: SwiGLU | MLP | undefined;
  readonly dim: number;
  readonly topK: number;
  readonly numExperts: number;
  readonly capacityFactor: number | undefined;
  readonly loadBalanceCoef: number;
  readonly zLossCoef: number;
  readonly biasUpdateRate: number;
  // Held outside the module's properties: not parameters, not in the state dict.
  #counter: RoutingCounter;
  #load: Tensor | undefined;
  #losses: MoELosses | undefined;
  #aux: Tensor | undefined;

  constructor(options: MoEOptions) {
    super();
    checkOptions('MoE', options, MOE_KEYS);
    const { dim, hidden, experts, topK, device, seed } = options;
    positiveInteger('MoE', 'dim', dim);
    positiveInteger('MoE', 'hidden', hidden);
    const shared = options.sharedExperts ?? 0;
    if (!Number.isInteger(shared) || shared < 0)
      throw new RangeError(`MoE: sharedExperts must be an integer >= 0, got ${shared}`);
    const factor = options.capacityFactor;
    if (factor !== undefined && !(Number.isFinite(factor) && factor > 0))
      throw new RangeError(`MoE: capacityFactor must be a positive number, got ${factor}`);
    const rate = options.biasUpdateRate ?? 0;
    nonNegative('biasUpdateRate', rate);
    this.loadBalanceCoef = options.loadBalanceCoef ?? (rate > 0 ? 0 : 0.01);
    this.zLossCoef = options.zLossCoef ?? 0.001;
    nonNegative('loadBalanceCoef', this.loadBalanceCoef);
    nonNegative('zLossCoef', this.zLossCoef);
    this.gate = new TopKRouter(dim, {
      experts,
      topK,
      scoring: options.scoring,
      normalize: options.normalize,
      scale: options.routedScale,
      jitter: options.jitter,
      selectionBias: rate > 0,
      std: options.std,
      device,
      seed,
    });
    const derived = (offset: number) => (seed === undefined ? undefined : seed + offset);
    this.experts = new Experts(experts, dim, hidden, {
      kind: options.expert,
      std: options.std,
      projStd: options.projStd,
      device,
      seed: derived(101),
    });
    const sharedOptions = {
      device,
      seed: derived(211),
      std: options.std,
      projStd: options.projStd,
    };
    this.shared_experts =
      shared === 0
        ? undefined
        : this.experts.kind === 'swiglu'
          ? new SwiGLU(dim, shared * hidden, sharedOptions)
          : new MLP(dim, shared * hidden, { ...sharedOptions, activation: 'gelu', bias: false });
    this.dim = dim;
    this.topK = topK;
    this.numExperts = experts;
    this.capacityFactor = factor;
    this.biasUpdateRate = rate;
    this.#counter = new RoutingCounter(experts, topK, device);
    this.#load = rate > 0 ? zeros([experts], { device }) : undefined;
  }

  /**
   * The most assignments an expert keeps for `tokens` tokens: ⌈capacityFactor · tokens · k / E⌉
   * (at most `tokens`), or `tokens` when dropless.
   */
  capacity(tokens: number): number {
    const f = this.capacityFactor;
    return f === undefined
      ? tokens
      : Math.min(tokens, Math.ceil((f * tokens * this.topK) / this.numExperts));
  }

  /**
   * x [..., dim] f32 → [..., dim]: Σ over each token's kept choices of weight · expert(x), plus
   * the shared experts.
   *
   * @throws RangeError - a last dimension other than `dim`
   * @throws TypeError - x not f32
   */
  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.dim)
      throw new RangeError(
        `MoE: input's last dimension must be dim = ${this.dim}, got [${x.shape.join(', ')}]`,
      );
    const tokens = x.size / this.dim;
    const flat = reshape(x, [tokens, this.dim]);
    const routing = this.gate.route(flat);
    const plan = this.plan(routing, tokens);
    const ys = this.experts.forward(dispatchTokens(flat, plan), plan.offsets);
    let y = combineTokens(ys, plan, routing.weights);
    if (this.shared_experts) y = add(y, this.shared_experts.forward(flat));
    if (this.training) this.afterTrainingForward(routing, plan, tokens);
    return reshape(y, x.shape);
  }

  /** The dispatch plan of a routing decision (`routeTokens` with this layer's capacity). */
  plan(routing: Routing, tokens: number): DispatchPlan {
    return routeTokens(routing.indices, {
      experts: this.numExperts,
      capacity: this.capacity(tokens),
    });
  }

  private afterTrainingForward(routing: Routing, plan: DispatchPlan, tokens: number): void {
    const losses = {
      loadBalance: loadBalancingLoss(
        balanceProbabilities(routing.scores, this.gate.scoring),
        plan.counts,
        this.topK,
      ),
      zLoss: routerZLoss(routing.logits),
    };
    this.#losses = losses;
    this.#aux = add(
      mul(losses.loadBalance, this.loadBalanceCoef),
      mul(losses.zLoss, this.zLossCoef),
    );
    this.#counter.record(plan.counts, this.capacity(tokens), tokens);
    const load = this.#load;
    if (load) tidy(() => noGrad(() => load.add_(cast(plan.counts, 'f32'))));
  }

  /**
   * The auxiliary loss of the last training forward pass: loadBalanceCoef · load-balancing loss
   * + zLossCoef · z-loss, a scalar to add to the training loss (undefined before the first
   * training forward pass). A decoder collects it from every layer that has one
   * (`@tessera/transformer`'s `auxLosses`). The tensor belongs to the forward pass: read it in
   * the same `tidy` scope.
   */
  auxLoss(): Tensor | undefined {
    return this.#aux;
  }

  /** The unweighted losses of the last training forward pass, for logging. */
  losses(): MoELosses | undefined {
    return this.#losses;
  }

  /**
   * Routing since the last call (tokens per expert, dropped share, max and min load over the
   * mean), read back in one transfer; the counting itself stays on the device, so calling this
   * only when logging costs no stall on the other steps.
   */
  readRoutingStats(): Promise<RoutingStats> {
    return this.#counter.read();
  }

  /**
   * DeepSeek-V3's auxiliary-loss-free step: moves the router's selection bias by ±γ from the
   * load summed over the training forward passes since the last call (`updateSelectionBias`),
   * then starts a new sum. Call it once per optimizer step. Does nothing without
   * `biasUpdateRate`.
   */
  updateBias(): void {
    const load = this.#load;
    const bias = this.gate.e_score_correction_bias;
    if (!load || !bias) return;
    updateSelectionBias(bias, load, this.biasUpdateRate);
    load.zero_();
  }

  override dispose(): void {
    super.dispose();
    this.#counter.dispose();
    this.#load?.dispose();
  }
}
