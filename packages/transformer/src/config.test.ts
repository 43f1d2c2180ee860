import { resolveConfig } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { small } from './test-utils/fixtures.js';

describe('resolveConfig', () => {
  it('fills in the defaults', () => {
    const c = resolveConfig(small);
    expect(c).toMatchObject({ kvHeads: 2, headDim: 8, ffn: 'swiglu', norm: 'rms', normEps: 1e-6 });
    expect(c.ffnHidden).toBe(96); // ⌈8/3 · 32⌉ rounded up to 32
    expect(resolveConfig({ ...small, ffn: 'gelu' }).ffnHidden).toBe(128);
    expect(resolveConfig({ ...small, norm: 'layer' }).normEps).toBe(1e-5);
    expect(c.dropPath).toBe(0);
    expect(resolveConfig(c)).toEqual(c); // resolving twice changes nothing
  });

  it('names unknown keys and bad values', () => {
    expect(() => resolveConfig({ ...small, nLayers: 2 } as never)).toThrow(
      /transformer config: unknown option "nLayers"/,
    );
    expect(() => resolveConfig({ ...small, rope: { base: 500 } } as never)).toThrow(
      /transformer config\.rope: unknown option "base" \(known options: theta, scaling, convention\)/,
    );
    expect(() => resolveConfig({ ...small, ffn: 'moe' } as never)).toThrow(
      /ffn must be 'swiglu', 'gelu' or a function building the layer, got "moe"/,
    );
    expect(() => resolveConfig({ ...small, dModel: 30 })).toThrow(
      /headDim must be an even integer/,
    );
    expect(() => resolveConfig({ ...small, dropPath: 1 })).toThrow(
      'transformer config: dropPath must be in [0, 1), got 1',
    );
    expect(() => resolveConfig({ ...small, dropout: -0.1 })).toThrow(
      'transformer config: dropout must be in [0, 1), got -0.1',
    );
  });
});
