import { checkOptions } from '@tessera/tensor-webgpu';
import { checkNumber } from './check.js';

/** Holds the KL coefficient β of PPO's per-token reward −β·KL and updates it after each rollout. */
export interface KLController {
  /** The current coefficient β. */
  readonly value: number;
  /**
   * Updates β from the KL measured on the last rollout.
   *
   * @param currentKl - the batch's mean per-sequence KL (Σ over a completion's tokens, mean over completions), nats
   * @param steps - how many samples (completions) the measurement covered
   */
  update(currentKl: number, steps: number): void;
}

/** A constant KL coefficient (TRL `FixedKLController`). */
export class FixedKLController implements KLController {
  /** @param value - β, >= 0 */
  constructor(readonly value: number) {
    checkNumber('FixedKLController', 'value', value, { min: 0 });
  }

  /** Does nothing: the coefficient is fixed. */
  update(): void {}
}

export interface AdaptiveKLOptions {
  /** Starting coefficient β₀. Default 0.2. */
  initKlCoef?: number;
  /** The KL (nats per sequence) to steer toward. Default 6. */
  target?: number;
  /** Samples over which the controller closes the gap: larger is slower. Default 10000. */
  horizon?: number;
}

/**
 * Adaptive KL coefficient by proportional control (Ziegler et al., "Fine-Tuning Language Models
 * from Human Preferences", 2019, §2.2): e = clip(KL/target − 1, −0.2, 0.2), then
 * β ← β·(1 + e·steps/horizon). β grows while the policy drifts past the target KL and shrinks
 * while it stays under. Defaults and update as TRL v0.11 `AdaptiveKLController`
 * (`init_kl_coef=0.2`, `target=6`, `horizon=10000`).
 */
export class AdaptiveKLController implements KLController {
  private coefficient: number;
  private readonly target: number;
  private readonly horizon: number;

  constructor(options: AdaptiveKLOptions = {}) {
    const where = 'AdaptiveKLController';
    checkOptions(where, options, ['initKlCoef', 'target', 'horizon']);
    this.coefficient = checkNumber(where, 'initKlCoef', options.initKlCoef ?? 0.2, { min: 0 });
    this.target = checkNumber(where, 'target', options.target ?? 6, { above: 0 });
    this.horizon = checkNumber(where, 'horizon', options.horizon ?? 10000, { above: 0 });
  }

  get value(): number {
    return this.coefficient;
  }

  update(currentKl: number, steps: number): void {
    checkNumber('AdaptiveKLController.update', 'currentKl', currentKl);
    checkNumber('AdaptiveKLController.update', 'steps', steps, { min: 0 });
    const error = Math.min(Math.max(currentKl / this.target - 1, -0.2), 0.2);
    this.coefficient *= 1 + (error * steps) / this.horizon;
  }
}
