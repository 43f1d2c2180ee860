import { AdaptiveKLController, FixedKLController } from '@tessera/rlhf';
import { describe, expect, it } from 'vitest';
import { fx } from './test-utils/fixture.js';

describe('KL controllers', () => {
  it('adaptive: follows the Ziegler et al. / TRL trajectory (Python fixture)', () => {
    const { init, target, horizon, steps, kls, values } = fx.klController;
    const ctl = new AdaptiveKLController({ initKlCoef: init, target, horizon });
    kls.forEach((kl: number, i: number) => {
      ctl.update(kl, steps);
      expect(ctl.value).toBeCloseTo(values[i], 12);
    });
  });

  it('adaptive: β rises above the target, falls below it, and the step is capped at ±20 %', () => {
    const up = new AdaptiveKLController({ initKlCoef: 1, target: 1, horizon: 10 });
    up.update(100, 10);
    expect(up.value).toBeCloseTo(1.2, 12);
    const down = new AdaptiveKLController({ initKlCoef: 1, target: 1, horizon: 10 });
    down.update(0.9, 10);
    expect(down.value).toBeCloseTo(0.9, 12);
  });

  it('fixed: never changes', () => {
    const ctl = new FixedKLController(0.05);
    ctl.update();
    expect(ctl.value).toBe(0.05);
  });

  it('reject bad settings', () => {
    expect(() => new AdaptiveKLController({ target: 0 })).toThrow(
      /target must be a finite number > 0, got number 0/,
    );
    // @ts-expect-error: TRL's name, not ours
    expect(() => new AdaptiveKLController({ init_kl_coef: 0.1 })).toThrow(
      /unknown option "init_kl_coef"/,
    );
    expect(() => new FixedKLController(-1)).toThrow(
      /FixedKLController: value must be a finite number >= 0/,
    );
  });
});
