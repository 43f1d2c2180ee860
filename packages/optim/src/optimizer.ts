import { checkOptions, keep, noGrad, Tensor } from '@tessera/tensor-webgpu';
import type { Schedule } from './schedule.js';

/**
 * A learning rate: a fixed number, or a schedule `(step) => lr` that the optimizer reads at
 * every `step()` with its own 0-based step counter (as optax's `scale_by_schedule`). The rate
 * has this one home: there is no setter to change it behind the options' back.
 */
export type LearningRate = number | Schedule;

/** Hyper-parameters every optimizer has: the learning rate and weight decay. */
export interface BaseOptions {
  /** A number, or a schedule read at each step (step 0 first). Must give a finite value >= 0. */
  lr: LearningRate;
  /** Weight decay (decoupled in AdamW, Lion and Muon; L2 in SGD). Must be >= 0. */
  weightDecay?: number;
}

/** A set of parameters sharing hyper-parameters (PyTorch's param group). */
export interface ParamGroup<O extends BaseOptions> {
  params: Tensor[];
  options: O;
  /**
   * The learning rates this group's last `step()` used, by the option they came from: `lr`, and
   * for Muon's AdamW part `adamw.lr`. Only rates that updated a parameter appear: empty before
   * the first step, and at a step where no parameter of the group had a gradient.
   */
  lastLR: Record<string, number>;
}

/** What `Optimizer` accepts: a list of parameters, or groups that override the defaults. */
export type ParamsInput<O extends BaseOptions> = Tensor[] | ({ params: Tensor[] } & Partial<O>)[];

/** What `update` gets besides the parameter, its gradient, state and group options. */
export interface UpdateContext {
  /** The learning rate for this parameter at this step (its schedule already read). */
  lr: number;
  /** This parameter's own step count, 1 at its first update: steps where it had no gradient do not count (as PyTorch). */
  step: number;
}

/** The version of `OptimizerState` that `stateDict()` writes. */
export const OPTIMIZER_STATE_FORMAT = 2;

/**
 * An optimizer's saved state, format 2: each parameter keeps its own step count. Hyper-parameters
 * are not part of it: they live in the options the optimizer is constructed with.
 */
export interface OptimizerState {
  /** `OPTIMIZER_STATE_FORMAT` (2). */
  format: 2;
  /** The optimizer that saved it: `'SGD'`, `'AdamW'`, `'Lion'` or `'Muon'`. */
  optimizer: string;
  /** `step()` calls so far: the counter learning-rate schedules read. */
  step: number;
  /** The number of parameters in each group, in order. */
  groups: { params: number }[];
  /** Each parameter's own step count (steps at which it had a gradient), by parameter index. */
  paramSteps: number[];
  /**
   * `"<param index>.<name>"` → tensor (e.g. `"3.exp_avg"`); indices run over the groups in order.
   * A parameter has these exactly when its `paramSteps` entry is above 0.
   */
  tensors: Record<string, Tensor>;
}

/**
 * Format 1, written before per-parameter steps: one optimizer-wide `step` and each group's
 * options. `loadStateDict` reads it by giving every parameter with saved tensors that step.
 */
export interface OptimizerStateV1 {
  step: number;
  groups: Record<string, unknown>[];
  tensors: Record<string, Tensor>;
}

/** A parameter's state: its own step count and its state tensors. */
interface ParamState<S> {
  step: number;
  tensors: S;
}

/**
 * The optimizer protocol. A new optimizer is one small class: `initState` makes a parameter's
 * state tensors, `update` changes the parameter (and its state) in place from its gradient.
 * The base class handles groups, learning rates (numbers or schedules), each parameter's step
 * count, `zeroGrad`, saving/loading state, and `dispose`.
 */
export abstract class Optimizer<
  O extends BaseOptions,
  S extends Record<string, Tensor> = Record<string, Tensor>,
> {
  readonly groups: ParamGroup<O>[];
  private count = 0;
  private readonly state = new Map<Tensor, ParamState<S>>();
  private disposed = false;

  /**
   * @param name - the optimizer's name, in errors and in saved state (`'AdamW'`)
   * @param params - parameters, or groups `{ params, ...overrides }`
   * @param defaults - every option's value for groups that do not override it
   * @param known - the option names this optimizer reads; any other key is an error
   * @throws TypeError - no parameters, a group without `params`, or an unknown option key
   */
  protected constructor(
    readonly name: string,
    params: ParamsInput<O>,
    defaults: O,
    known: readonly (keyof O & string)[],
  ) {
    checkOptions(name, defaults, known);
    const list = params as unknown[];
    if (!Array.isArray(list) || list.length === 0)
      throw new TypeError(`${name}: expected a non-empty list of parameters or groups`);
    const grouped = list.every((g) => g !== null && typeof g === 'object' && 'params' in g);
    const raw = grouped
      ? (list as ({ params: Tensor[] } & Partial<O>)[])
      : [{ params: list as Tensor[] }];
    this.groups = raw.map(({ params: ps, ...overrides }, i) => {
      const where = `${name}: groups[${i}]`;
      checkOptions(where, overrides, known);
      if (!Array.isArray(ps) || !ps.every((p) => p instanceof Tensor))
        throw new TypeError(`${where}.params: expected an array of Tensors`);
      const options = { ...defaults, ...overrides } as O;
      this.validate(options);
      return { params: ps, options, lastLR: {} };
    });
  }

  /** `step()` calls so far: the step counter learning-rate schedules read. */
  get stepCount(): number {
    return this.count;
  }

  /** Checks hyper-parameters; subclasses extend it and throw errors naming the option. */
  protected validate(options: O): void {
    checkBaseOptions(this.name, options);
  }

  /** The state tensors of a new parameter (zeros of its shape, usually). */
  protected abstract initState(param: Tensor, options: O): S;

  /** Updates `param` and `state` in place from `grad`; runs under `noGrad`. */
  protected abstract update(
    param: Tensor,
    grad: Tensor,
    state: S,
    options: O,
    at: UpdateContext,
  ): void;

  /**
   * Which learning rate updates `param`, as `[option name, rate]`: the group's `lr` here; Muon
   * sends parameters it does not orthogonalise to its AdamW part's `adamw.lr`.
   */
  protected learningRate(_param: Tensor, options: O): [string, LearningRate] {
    return ['lr', options.lr];
  }

  /**
   * One optimization step for every parameter that has a gradient; parameters without one are
   * skipped and their step counts do not advance (as PyTorch). Schedules are read at the
   * optimizer's step counter, which advances by one per call.
   *
   * @throws RangeError - a schedule gave a value that is not a finite number >= 0 (before any
   *   parameter changes)
   */
  step(): void {
    this.assertAlive('step');
    const at = this.count;
    // Read every rate first, so that a bad schedule value fails before any parameter moves.
    const plan = this.groups.map((group, i) => {
      const rates: Record<string, number> = {};
      const stepping = group.params.filter((p) => p.grad && p.requiresGrad);
      const lrs = stepping.map((p) => {
        const [name, rate] = this.learningRate(p, group.options);
        rates[name] ??= readRate(rate, at, `${this.name}: groups[${i}].${name}`);
        return rates[name];
      });
      return { group, stepping, lrs, rates };
    });
    this.count++;
    noGrad(() => {
      for (const { group, stepping, lrs, rates } of plan) {
        stepping.forEach((p, k) => {
          const s = this.stateOf(p, group.options);
          s.step++;
          this.update(p, p.grad!, s.tensors, group.options, { lr: lrs[k]!, step: s.step });
        });
        group.lastLR = rates;
      }
    });
  }

  /** Frees and clears every parameter's gradient. */
  zeroGrad(): void {
    this.assertAlive('zeroGrad');
    for (const group of this.groups) {
      for (const p of group.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /**
   * Frees every state tensor (moments, momentum buffers). The parameters are the model's and
   * stay. Idempotent; any later use of the optimizer is an error.
   */
  dispose(): void {
    if (this.disposed) return;
    for (const s of this.state.values()) for (const t of Object.values(s.tensors)) t.dispose();
    this.state.clear();
    this.disposed = true;
  }

  /** A parameter's state, created on first use and kept out of any enclosing `tidy()`. */
  private stateOf(p: Tensor, options: O): ParamState<S> {
    let s = this.state.get(p);
    if (!s) {
      s = { step: 0, tensors: this.initState(p, options) };
      for (const t of Object.values(s.tensors)) keep(t);
      this.state.set(p, s);
    }
    return s;
  }

  private indexed(): { p: Tensor; options: O }[] {
    return this.groups.flatMap((g) => g.params.map((p) => ({ p, options: g.options })));
  }

  /** The state to save for resuming (the tensors are live; save them before the next step). */
  stateDict(): OptimizerState {
    this.assertAlive('stateDict');
    const tensors: Record<string, Tensor> = {};
    const paramSteps = this.indexed().map(({ p }, i) => {
      const s = this.state.get(p);
      if (s) for (const [name, t] of Object.entries(s.tensors)) tensors[`${i}.${name}`] = t;
      return s?.step ?? 0;
    });
    return {
      format: OPTIMIZER_STATE_FORMAT,
      optimizer: this.name,
      step: this.count,
      groups: this.groups.map((g) => ({ params: g.params.length })),
      paramSteps,
      tensors,
    };
  }

  /**
   * Restores saved state (values are copied in): the parameters must be the same, in the same
   * groups and order. Everything is checked before anything changes — the format, the optimizer
   * name, the group layout, step counts, each tensor's key, shape, dtype and values (read back
   * once, so this is async) — and a problem is an error naming the field. Format 1 (one
   * optimizer-wide step, no `format` key) loads with every parameter that has saved tensors
   * given that step; its saved options are ignored (they live in the constructor's options).
   *
   * @throws Error - the state is empty or malformed, names another optimizer or group layout,
   *   lacks or adds a tensor, or holds a tensor of the wrong shape or a non-finite value
   */
  async loadStateDict(saved: OptimizerState | OptimizerStateV1): Promise<void> {
    this.assertAlive('loadStateDict');
    const where = `${this.name}.loadStateDict`;
    const params = this.indexed();
    const state = this.readState(saved, params.length, where);
    // Group the tensors by parameter and check each against its parameter's state layout.
    const byParam = new Map<number, Record<string, Tensor>>();
    for (const [key, t] of Object.entries(state.tensors)) {
      const dot = key.indexOf('.');
      const index = dot > 0 ? Number(key.slice(0, dot)) : Number.NaN;
      if (!Number.isInteger(index) || index < 0 || index >= params.length)
        throw new Error(
          `${where}: tensors["${key}"] does not name a parameter (expected "<index>.<name>" with an index below ${params.length})`,
        );
      if (!(t instanceof Tensor) || t.isDisposed)
        throw new TypeError(`${where}: tensors["${key}"] is not a live Tensor`);
      if (state.paramSteps[index] === 0)
        throw new Error(
          `${where}: tensors["${key}"] is saved for parameter ${index}, but paramSteps[${index}] is 0 (it never took a step)`,
        );
      byParam.set(index, { ...byParam.get(index), [key.slice(dot + 1)]: t });
    }
    for (const [key, t] of Object.entries(state.tensors))
      await checkFinite(t, `${where}: tensors["${key}"]`);

    // Build the new states beside the old ones, so that a failed check changes nothing.
    const fresh: Tensor[] = [];
    const next = new Map<Tensor, ParamState<S>>();
    try {
      params.forEach(({ p, options }, i) => {
        const steps = state.paramSteps[i]!;
        if (steps === 0) return;
        let tensors = this.state.get(p)?.tensors;
        if (!tensors) {
          tensors = this.initState(p, options);
          fresh.push(...Object.values(tensors));
        }
        const given = byParam.get(i) ?? {};
        for (const [name, target] of Object.entries(tensors)) {
          const t = given[name];
          const key = `tensors["${i}.${name}"]`;
          if (!t)
            throw new Error(
              `${where}: ${key} is missing (parameter ${i} took ${steps} steps, so its state must be saved)`,
            );
          if (t.shape.join() !== target.shape.join() || t.dtype !== target.dtype)
            throw new RangeError(
              `${where}: ${key} is [${t.shape.join(', ')}] ${t.dtype}, expected [${target.shape.join(', ')}] ${target.dtype} (parameter ${i} is [${p.shape.join(', ')}])`,
            );
        }
        for (const name of Object.keys(given))
          if (!(name in tensors))
            throw new Error(
              `${where}: tensors["${i}.${name}"] is not state of ${this.name} (expected ${Object.keys(tensors).join(', ')})`,
            );
        next.set(p, { step: steps, tensors });
      });
    } catch (e) {
      for (const t of fresh) t.dispose();
      throw e;
    }

    noGrad(() => {
      for (const [p, s] of this.state)
        if (!next.has(p)) for (const t of Object.values(s.tensors)) t.dispose();
      this.state.clear();
      params.forEach(({ p }, i) => {
        const s = next.get(p);
        if (!s) return;
        for (const [name, target] of Object.entries(s.tensors))
          target.copy_(byParam.get(i)![name]!);
        for (const t of Object.values(s.tensors)) keep(t);
        this.state.set(p, s);
      });
    });
    this.count = state.step;
  }

  /** Checks the saved state's fields and brings format 1 to format 2's shape. */
  private readState(
    saved: OptimizerState | OptimizerStateV1,
    nParams: number,
    where: string,
  ): Pick<OptimizerState, 'step' | 'paramSteps' | 'tensors'> {
    if (saved === null || typeof saved !== 'object' || Object.keys(saved).length === 0)
      throw new Error(
        `${where}: the state is empty; pass what stateDict() returned (format ${OPTIMIZER_STATE_FORMAT}: format, optimizer, step, groups, paramSteps, tensors)`,
      );
    const s = saved as Partial<OptimizerState>;
    if (s.format !== undefined && s.format !== OPTIMIZER_STATE_FORMAT)
      throw new Error(
        `${where}: format is ${JSON.stringify(s.format)}, this version reads formats 1 and ${OPTIMIZER_STATE_FORMAT}; save the state again with the version that wrote it, or start the optimizer afresh`,
      );
    if (!isCount(s.step)) throw new Error(`${where}: step is ${s.step}, expected an integer >= 0`);
    if (s.tensors === null || typeof s.tensors !== 'object')
      throw new Error(`${where}: tensors is ${s.tensors}, expected an object of Tensors by key`);
    if (!Array.isArray(s.groups))
      throw new Error(`${where}: groups is ${s.groups}, expected an array`);
    if (s.groups.length !== this.groups.length)
      throw new Error(
        `${where}: groups has ${s.groups.length} parameter groups, this optimizer ${this.groups.length}`,
      );
    if (s.format === undefined) {
      // Format 1: every parameter that has state took the optimizer-wide step.
      const tensors = s.tensors;
      const has = new Set(Object.keys(tensors).map((k) => Number(k.slice(0, k.indexOf('.')))));
      const step = s.step;
      if (step === 0 && has.size > 0)
        throw new Error(`${where}: step is 0 but tensors is not empty (format 1)`);
      return {
        step,
        tensors,
        paramSteps: Array.from({ length: nParams }, (_, i) => (has.has(i) ? step : 0)),
      };
    }
    if (s.optimizer !== this.name)
      throw new Error(
        `${where}: optimizer is ${JSON.stringify(s.optimizer)}, this optimizer is ${this.name}`,
      );
    s.groups.forEach((g, i) => {
      const n = this.groups[i]!.params.length;
      if (g?.params !== n)
        throw new Error(
          `${where}: groups[${i}].params is ${g?.params}, this optimizer's group ${i} has ${n} parameters`,
        );
    });
    const steps = s.paramSteps;
    if (!Array.isArray(steps) || steps.length !== nParams)
      throw new Error(
        `${where}: paramSteps must be an array of ${nParams} step counts, got ${Array.isArray(steps) ? `${steps.length} entries` : steps}`,
      );
    steps.forEach((n, i) => {
      if (!isCount(n) || n > s.step!)
        throw new Error(
          `${where}: paramSteps[${i}] is ${n}, expected an integer from 0 to step (${s.step})`,
        );
    });
    return { step: s.step, paramSteps: steps, tensors: s.tensors };
  }

  private assertAlive(method: string): void {
    if (this.disposed)
      throw new Error(`${this.name}.${method}: this optimizer was disposed and cannot be used`);
  }
}

/**
 * Checks `lr` (a finite number >= 0, or a schedule) and `weightDecay` (>= 0); errors read
 * `${where}: ${prefix}lr ...` (Muon checks its AdamW part with the prefix `adamw.`).
 *
 * @throws RangeError - naming the option and the value
 */
export function checkBaseOptions(where: string, o: Partial<BaseOptions>, prefix = ''): void {
  if (typeof o.lr !== 'function' && !(Number.isFinite(o.lr) && o.lr! >= 0))
    throw new RangeError(
      `${where}: ${prefix}lr must be a finite number >= 0 or a schedule, got ${o.lr}`,
    );
  if (o.weightDecay !== undefined && !(o.weightDecay >= 0))
    throw new RangeError(`${where}: ${prefix}weightDecay must be >= 0, got ${o.weightDecay}`);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}

/** A learning rate's value at a 0-based step, checked. */
function readRate(rate: LearningRate, step: number, where: string): number {
  const value = typeof rate === 'function' ? rate(step) : rate;
  if (!(Number.isFinite(value) && value >= 0))
    throw new RangeError(`${where} is ${value} at step ${step}, expected a finite number >= 0`);
  return value;
}

/** Throws when `t` holds a NaN or an infinity, naming the first one. */
async function checkFinite(t: Tensor, what: string): Promise<void> {
  const data = await t.data();
  const i = data.findIndex((v) => !Number.isFinite(v));
  if (i >= 0)
    throw new RangeError(`${what} holds ${data[i]} at element ${i}; expected finite values`);
}
