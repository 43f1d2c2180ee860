import {
  add,
  checkOptions,
  dropout,
  matmul,
  mul,
  noGrad,
  type Tensor,
  transpose,
  zeros,
} from '@tessera/tensor-webgpu';
import { uniformInit } from './init.js';
import { Linear } from './layers.js';
import { Module, parameter } from './module.js';

const LORA_KEYS = ['rank', 'alpha', 'dropout', 'seed'] as const;

/** Options of `LoRALinear`. */
export interface LoRAOptions {
  /** Rank r of the update B·A. */
  rank: number;
  /** Scale numerator: the update is multiplied by alpha / rank (default alpha = rank). */
  alpha?: number;
  /** Dropout on the adapter's input (default 0). */
  dropout?: number;
  seed?: number;
}

/**
 * Low-rank adaptation of a Linear (Hu et al., 2021): y = base(x) + (α/r)·B·A·x. A starts
 * Kaiming-uniform and B at zero, so a freshly wrapped model computes exactly what the base did;
 * the base weight is frozen and only A and B train. `merge()` folds the update into the base
 * weight (for inference without the extra matmuls) and `unmerge()` takes it out again.
 * `dispose()` frees the adapter and the wrapped layer.
 *
 * @throws TypeError - an unknown option key
 * @throws RangeError - a rank that is not a positive integer, or dropout outside [0, 1)
 */
export class LoRALinear extends Module {
  lora_A: Tensor;
  lora_B: Tensor;
  readonly scale: number;
  private merged = false;

  constructor(
    readonly base: Linear,
    readonly options: LoRAOptions,
  ) {
    super();
    checkOptions('LoRA', options, LORA_KEYS);
    const { rank } = options;
    if (!Number.isInteger(rank) || rank < 1)
      throw new RangeError(`LoRA: rank must be a positive integer, got ${rank}`);
    const p = options.dropout ?? 0;
    if (!(p >= 0 && p < 1)) throw new RangeError(`LoRA: dropout must be in [0, 1), got ${p}`);
    const device = base.weight.device;
    this.scale = (options.alpha ?? rank) / rank;
    for (const t of base.parameters()) t.requiresGrad = false;
    this.lora_A = parameter(
      uniformInit([rank, base.inFeatures], 1 / Math.sqrt(base.inFeatures), {
        device,
        seed: options.seed,
      }),
    );
    this.lora_B = parameter(zeros([base.outFeatures, rank], { device }));
  }

  get isMerged(): boolean {
    return this.merged;
  }

  forward(x: Tensor): Tensor {
    const y = this.base.forward(x);
    if (this.merged) return y;
    const h = dropout(x, this.options.dropout ?? 0, { training: this.training });
    const update = matmul(matmul(h, transpose(this.lora_A)), transpose(this.lora_B));
    return add(y, mul(update, this.scale));
  }

  /** The dense update (α/r)·B·A of shape [out, in]. */
  delta(): Tensor {
    return noGrad(() => mul(matmul(this.lora_B, this.lora_A), this.scale));
  }

  /** Adds the update into the base weight; forward then skips the adapter. */
  merge(): void {
    if (this.merged) return;
    const d = this.delta();
    this.base.weight.add_(d);
    d.dispose();
    this.merged = true;
  }

  /** Removes the merged update from the base weight again. */
  unmerge(): void {
    if (!this.merged) return;
    const d = this.delta();
    this.base.weight.sub_(d);
    d.dispose();
    this.merged = false;
  }
}

/**
 * Wraps every Linear of `model` whose dotted name passes `target` in a LoRALinear (in place) and
 * freezes every other parameter, so only adapters train. Returns the wrapped names.
 *
 * @throws TypeError - an unknown option key
 * @throws Error - no Linear matched `target`
 */
export function applyLoRA(
  model: Module,
  options: LoRAOptions & { target?: (name: string) => boolean },
): string[] {
  checkOptions('applyLoRA', options, [...LORA_KEYS, 'target']);
  const { target = () => true, ...lora } = options;
  for (const p of model.parameters()) p.requiresGrad = false;
  const wrapped: string[] = [];
  for (const [prefix, m] of model.namedModules()) {
    for (const [name, child] of m.namedChildren()) {
      const full = prefix ? `${prefix}.${name}` : name;
      if (child instanceof Linear && target(full)) {
        replaceChild(m, child, new LoRALinear(child, lora));
        wrapped.push(full);
      }
    }
  }
  if (wrapped.length === 0) throw new Error('applyLoRA: no Linear layer matched the target');
  return wrapped;
}

/** Puts `next` where `m` holds `child` (a property or an element of an array property). */
function replaceChild(m: Module, child: Module, next: Module): void {
  const record = m as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (value === child) record[key] = next;
    else if (Array.isArray(value)) {
      const i = value.indexOf(child);
      if (i >= 0) value[i] = next;
    }
  }
}
