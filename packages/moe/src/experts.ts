import { linearDefaultInit, Module, normalInit, parameter } from '@tessera/nn';
import { checkOptions, type Device, gelu, swiglu, type Tensor } from '@tessera/tensor-webgpu';
import { groupedMatmul } from './grouped-matmul.js';
import { positiveInteger } from './router.js';

/**
 * An expert's feed-forward network:
 * - `swiglu`: down(silu(gate(x)) · up(x)), as Mixtral's and DeepSeek's experts;
 * - `gelu`: down(gelu(up(x))), the two-layer MLP of Switch Transformer and GShard (exact GELU).
 * No biases.
 */
export type ExpertKind = 'swiglu' | 'gelu';

/** Options of `Experts`. */
export interface ExpertsOptions {
  /** Default `swiglu`. */
  kind?: ExpertKind;
  /** Std of a normal initialisation of `gate_proj`/`up_proj`; default PyTorch's uniform(±1/√fan_in). */
  std?: number;
  /** Std of `down_proj` (the projection into the residual stream); default `std`. */
  projStd?: number;
  device?: Device;
  seed?: number;
}

/**
 * E expert networks with their weights stacked, so one grouped matmul reads every expert's
 * matrix in place: `gate_proj` and `up_proj` [E, hidden, dim], `down_proj` [E, dim, hidden],
 * each expert's slice in Linear's [out, in] layout. (`toHuggingFaceExperts` splits them into
 * DeepSeek-V3's per-expert names `experts.{i}.gate_proj.weight`.)
 *
 * @throws TypeError - an unknown option or expert kind
 * @throws RangeError - sizes that are not positive integers
 */
export class Experts extends Module {
  /** [E, hidden, dim]; `swiglu` experts only. */
  gate_proj: Tensor | undefined;
  /** [E, hidden, dim]. */
  up_proj: Tensor;
  /** [E, dim, hidden]. */
  down_proj: Tensor;
  readonly kind: ExpertKind;

  constructor(
    readonly count: number,
    readonly dim: number,
    readonly hidden: number,
    options: ExpertsOptions = {},
  ) {
    super();
    checkOptions('Experts', options, ['kind', 'std', 'projStd', 'device', 'seed']);
    positiveInteger('Experts', 'count', count);
    positiveInteger('Experts', 'dim', dim);
    positiveInteger('Experts', 'hidden', hidden);
    const kind = options.kind ?? 'swiglu';
    if (kind !== 'swiglu' && kind !== 'gelu')
      throw new TypeError(`Experts: kind must be 'swiglu' or 'gelu', got ${JSON.stringify(kind)}`);
    this.kind = kind;
    // Each matrix gets its own seed, so gate and up never start equal.
    const init = (shape: [number, number, number], std: number | undefined, offset: number) => {
      const o = {
        device: options.device,
        seed: options.seed === undefined ? undefined : options.seed + offset,
      };
      return parameter(
        std === undefined ? linearDefaultInit(shape, shape[2], o) : normalInit(shape, std, o),
      );
    };
    this.gate_proj = kind === 'swiglu' ? init([count, hidden, dim], options.std, 0) : undefined;
    this.up_proj = init([count, hidden, dim], options.std, 1);
    this.down_proj = init([count, dim, hidden], options.projStd ?? options.std, 2);
  }

  /**
   * Runs every expert on its own rows: `xs` [R, dim] in expert order, expert e owning rows
   * offsets[e]..offsets[e+1] (`DispatchPlan.offsets`); rows past offsets[E] give zeros.
   * Three grouped matmuls (two for `gelu`), each one dispatch. → [R, dim].
   */
  forward(xs: Tensor, offsets: Tensor): Tensor {
    const up = groupedMatmul(xs, this.up_proj, offsets);
    const h =
      this.kind === 'swiglu' ? swiglu(groupedMatmul(xs, this.gate_proj!, offsets), up) : gelu(up);
    return groupedMatmul(h, this.down_proj, offsets);
  }
}
