import { readFileSync } from 'node:fs';
import { inverseFrequencies, type RopeScaling } from '@tessera/rope';
import { maxRelError } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

describe('inverse frequencies', () => {
  it('names a bad scaling factor', () => {
    expect(() => inverseFrequencies({ dim: 4, scaling: { type: 'linear', factor: 0.5 } })).toThrow(
      /factor must be >= 1, got 0\.5/,
    );
  });
});

describe('scaled frequencies match independently computed tables', () => {
  const cases = JSON.parse(
    readFileSync(new URL('../fixtures/scaled-frequencies.json', import.meta.url), 'utf8'),
  );
  for (const c of cases as {
    scaling: RopeScaling;
    dim: number;
    theta: number;
    invFreq: number[];
    attentionFactor: number;
  }[]) {
    it(c.scaling.type, () => {
      const { invFreq, attentionFactor } = inverseFrequencies({
        dim: c.dim,
        theta: c.theta,
        scaling: c.scaling,
      });
      expect(
        maxRelError(
          invFreq.map((f) => f * 1e6),
          c.invFreq.map((f) => f * 1e6),
        ),
      ).toBeLessThan(1e-9);
      expect(attentionFactor).toBeCloseTo(c.attentionFactor, 12);
    });
  }
});
