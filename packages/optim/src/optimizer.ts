import { keep, noGrad, type Tensor } from '@tessera/tensor-webgpu';

/** Hyper-parameters every optimizer has: the learning rate (schedules set it) and weight decay. */
export interface BaseOptions {
  lr: number;
  weightDecay?: number;
}

/** A set of parameters sharing hyper-parameters (PyTorch's param group). */
export interface ParamGroup<O extends BaseOptions> {
  params: Tensor[];
  options: O;
}

/** What `Optimizer` accepts: a list of parameters, or groups that override the defaults. */
export type ParamsInput<O extends BaseOptions> = Tensor[] | ({ params: Tensor[] } & Partial<O>)[];

/** An optimizer's saved state: step count, group options, and per-parameter tensors by index. */
export interface OptimizerState {
  step: number;
  groups: Record<string, unknown>[];
  /** `"<param index>.<name>"` → tensor (e.g. `"3.exp_avg"`); indices follow `groups` order. */
  tensors: Record<string, Tensor>;
}

/**
 * The optimizer protocol. A new optimizer is one small class: `initState` makes a parameter's
 * state tensors, `update` changes the parameter (and its state) in place from its gradient.
 * The base class handles groups, the step count, `zeroGrad`, and saving/loading state.
 */
export abstract class Optimizer<
  O extends BaseOptions,
  S extends Record<string, Tensor> = Record<string, Tensor>,
> {
  readonly groups: ParamGroup<O>[];
  /** Steps taken so far (1-based inside `update`). */
  stepCount = 0;
  private readonly state = new Map<Tensor, S>();

  constructor(params: ParamsInput<O>, defaults: O) {
    const list = params as unknown[];
    if (!Array.isArray(list) || list.length === 0)
      throw new TypeError(
        `${this.constructor.name}: expected a non-empty list of parameters or groups`,
      );
    const grouped = list.every(
      (g) => g !== null && typeof g === 'object' && 'params' in (g as object),
    );
    const raw = grouped
      ? (list as ({ params: Tensor[] } & Partial<O>)[])
      : [{ params: list as Tensor[] }];
    this.groups = raw.map(({ params: ps, ...overrides }) => {
      const options = { ...defaults, ...overrides } as O;
      this.validate(options);
      return { params: ps, options };
    });
  }

  /** Checks hyper-parameters; subclasses extend it and throw errors naming the option. */
  protected validate(options: O): void {
    if (!(options.lr >= 0))
      throw new RangeError(`${this.constructor.name}: lr must be >= 0, got ${options.lr}`);
    if (options.weightDecay !== undefined && !(options.weightDecay >= 0)) {
      throw new RangeError(
        `${this.constructor.name}: weightDecay must be >= 0, got ${options.weightDecay}`,
      );
    }
  }

  /** The state tensors of a new parameter (zeros of its shape, usually). */
  protected abstract initState(param: Tensor, options: O): S;

  /** Updates `param` and `state` in place from `grad`; runs under `noGrad`. `step` starts at 1. */
  protected abstract update(param: Tensor, grad: Tensor, state: S, options: O, step: number): void;

  /** One optimization step for every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    noGrad(() => {
      for (const group of this.groups) {
        for (const p of group.params) {
          if (!p.grad || !p.requiresGrad) continue;
          this.update(p, p.grad, this.stateOf(p, group.options), group.options, this.stepCount);
        }
      }
    });
  }

  /** Frees and clears every parameter's gradient. */
  zeroGrad(): void {
    for (const group of this.groups) {
      for (const p of group.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /** Sets the learning rate of every group (what a schedule calls each step). */
  setLR(lr: number): void {
    if (!(lr >= 0)) throw new RangeError(`setLR: lr must be >= 0, got ${lr}`);
    for (const g of this.groups) g.options.lr = lr;
  }

  /** A parameter's state, created on first use and kept out of any enclosing `tidy()`. */
  private stateOf(p: Tensor, options: O): S {
    let s = this.state.get(p);
    if (!s) {
      s = this.initState(p, options);
      for (const t of Object.values(s)) keep(t);
      this.state.set(p, s);
    }
    return s;
  }

  private indexed(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }

  /** The state to save for resuming (the tensors are live; save them before the next step). */
  stateDict(): OptimizerState {
    const tensors: Record<string, Tensor> = {};
    this.indexed().forEach((p, i) => {
      const s = this.state.get(p);
      if (s) for (const [name, t] of Object.entries(s)) tensors[`${i}.${name}`] = t;
    });
    return {
      step: this.stepCount,
      groups: this.groups.map((g) => ({ ...g.options }) as Record<string, unknown>),
      tensors,
    };
  }

  /** Restores saved state (copied in); the parameters must be the same, in the same order. */
  loadStateDict(saved: OptimizerState): void {
    if (saved.groups.length !== this.groups.length) {
      throw new Error(
        `loadStateDict: saved state has ${saved.groups.length} parameter groups, this optimizer ${this.groups.length}`,
      );
    }
    this.stepCount = saved.step;
    for (const [i, options] of saved.groups.entries())
      Object.assign(this.groups[i]!.options, options);
    const params = this.indexed();
    const byParam = new Map<number, Record<string, Tensor>>();
    for (const [key, t] of Object.entries(saved.tensors)) {
      const dot = key.indexOf('.');
      const index = Number(key.slice(0, dot));
      if (!Number.isInteger(index) || index < 0 || index >= params.length) {
        throw new Error(
          `loadStateDict: state key "${key}" names parameter ${index}, but there are ${params.length}`,
        );
      }
      const entry = byParam.get(index) ?? {};
      entry[key.slice(dot + 1)] = t;
      byParam.set(index, entry);
    }
    noGrad(() => {
      for (const [index, entries] of byParam) {
        const p = params[index]!;
        const group = this.groups.find((g) => g.params.includes(p))!;
        const s = this.stateOf(p, group.options);
        for (const [name, t] of Object.entries(entries)) {
          const target = s[name];
          if (!target)
            throw new Error(`loadStateDict: unknown state "${name}" for parameter ${index}`);
          if (target.shape.join() !== t.shape.join()) {
            throw new RangeError(
              `loadStateDict: state "${index}.${name}" has shape [${t.shape.join(', ')}], expected [${target.shape.join(', ')}]`,
            );
          }
          target.copy_(t);
        }
      }
    });
  }
}
