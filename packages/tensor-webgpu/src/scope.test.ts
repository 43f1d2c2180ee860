import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { cpu } from './test-utils/agree.js';

describe('tidy, keep and noGrad', () => {
  it('tidy disposes what it created except what it returns (nested in arrays and objects) or keeps', () => {
    let inner: T.Tensor | undefined;
    let kept: T.Tensor | undefined;
    const out = T.tidy(() => {
      inner = T.ones([2], { device: cpu });
      kept = T.keep(T.add(inner, 1));
      const a = T.mul(inner, 2);
      return { pair: [a, T.add(a, 1)] };
    });
    expect(inner!.isDisposed).toBe(true);
    expect(kept!.isDisposed).toBe(false);
    expect(out.pair.map((t) => t.isDisposed)).toEqual([false, false]);
  });

  it('returned tensors join the enclosing scope', () => {
    let fromInner: T.Tensor | undefined;
    T.tidy(() => {
      fromInner = T.tidy(() => T.zeros([1], { device: cpu }));
      expect(fromInner.isDisposed).toBe(false);
      return undefined;
    });
    expect(fromInner!.isDisposed).toBe(true);
  });

  it('tidy refuses an async function', () => {
    expect(() => T.tidy(async () => 1)).toThrow(/tidy\(fn\): fn must be synchronous/);
  });

  it('noGrad records no graph and restores recording afterwards, even after a throw', () => {
    const x = T.ones([2], { device: cpu }).requiresGrad_();
    expect(T.noGrad(() => T.mul(x, 2)).requiresGrad).toBe(false);
    expect(() =>
      T.noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(T.mul(x, 2).requiresGrad).toBe(true);
  });

  it('isGradEnabled tells whether a noGrad block is open', () => {
    expect(T.isGradEnabled()).toBe(true);
    expect(T.noGrad(() => T.isGradEnabled())).toBe(false);
    expect(T.noGrad(() => T.noGrad(() => T.isGradEnabled()))).toBe(false);
    expect(T.isGradEnabled()).toBe(true);
  });
});
