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
    expect(() => resolveConfig({ ...small, ffn: 'mixture' } as never)).toThrow(
      /ffn must be 'swiglu', 'gelu', 'moe' or a function building the layer, got "mixture"/,
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

  it("takes a mixture of experts as plain JSON: ffn 'moe' with its moe field", () => {
    const c = resolveConfig({ ...small, ffn: 'moe', moe: { experts: 4, topK: 2, hidden: 24 } });
    expect(c).toMatchObject({ ffn: 'moe', moe: { experts: 4, topK: 2, hidden: 24 } });
    expect(resolveConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
    expect(c.ffnHidden).toBe(96); // SwiGLU experts: the SwiGLU default
    const gelu = { ...small, ffn: 'moe', moe: { experts: 4, topK: 1, expert: 'gelu' } } as const;
    expect(resolveConfig(gelu).ffnHidden).toBe(128);
    expect(() => resolveConfig({ ...small, ffn: 'moe' })).toThrow(
      "transformer config: ffn 'moe' needs a moe field (e.g. { experts: 8, topK: 2 })",
    );
    expect(() => resolveConfig({ ...small, moe: { experts: 4, topK: 2 } })).toThrow(
      `transformer config: moe is set but ffn is "swiglu"; set ffn: 'moe'`,
    );
    expect(() =>
      resolveConfig({ ...small, ffn: 'moe', moe: { experts: 4, k: 2 } } as never),
    ).toThrow(/moeFeedForward: unknown option "k"/);
  });
});
