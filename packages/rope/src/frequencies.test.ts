import { readFileSync } from 'node:fs';
import { maxRelError } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { inverseFrequencies, type RopeScaling, ropeTables } from './frequencies.js';

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
    it(JSON.stringify(c.scaling), () => {
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

describe('YaRN reads its options as Hugging Face does', () => {
  const gptOss = {
    type: 'yarn',
    factor: 32,
    originalMaxPositions: 4096,
    betaFast: 32,
    betaSlow: 1,
  } as const;

  it('truncate: false leaves the correction range unrounded (gpt-oss)', () => {
    const { invFreq } = inverseFrequencies({
      dim: 64,
      theta: 150000,
      scaling: { ...gptOss, truncate: false },
    });
    // Hugging Face's formula in float64 (the reference value).
    expect(invFreq[9]).toBeCloseTo(0.03170569618466377, 15);
    const rounded = inverseFrequencies({ dim: 64, theta: 150000, scaling: gptOss }).invFreq;
    expect(rounded[9]).toBeCloseTo(0.031620752275346484, 15);
  });

  it('attention factor: explicit, DeepSeek mscale pair, or 0.1·ln(factor) + 1', () => {
    const af = (extra: object) =>
      inverseFrequencies({ dim: 64, scaling: { ...gptOss, ...extra } }).attentionFactor;
    expect(af({})).toBeCloseTo(0.1 * Math.log(32) + 1, 14);
    expect(af({ attentionFactor: 1.5 })).toBe(1.5);
    expect(af({ mscale: 1, mscaleAllDim: 1 })).toBe(1);
    expect(af({ mscale: 1, mscaleAllDim: 0.5 })).toBeCloseTo(
      (0.1 * Math.log(32) + 1) / (0.05 * Math.log(32) + 1),
      14,
    );
    expect(af({ mscale: 1 })).toBeCloseTo(0.1 * Math.log(32) + 1, 14); // alone it does nothing, as in Hugging Face
    expect(() => af({ attentionFactor: -1 })).toThrow(
      'rope: scaling attentionFactor must be a positive number, got -1',
    );
  });
});

describe("YaRN equals Hugging Face transformers' own _compute_yarn_parameters", () => {
  const { transformers, cases } = JSON.parse(
    readFileSync(new URL('../fixtures/yarn-hf.json', import.meta.url), 'utf8'),
  ) as {
    transformers: string;
    cases: {
      dim: number;
      theta: number;
      scaling: RopeScaling;
      invFreq: number[];
      attentionFactor: number;
    }[];
  };
  it(`on ${cases.length} configurations (transformers ${transformers}, float32)`, () => {
    for (const c of cases) {
      const { invFreq, attentionFactor } = inverseFrequencies({
        dim: c.dim,
        theta: c.theta,
        scaling: c.scaling,
      });
      const where = JSON.stringify(c.scaling);
      for (let i = 0; i < invFreq.length; i++)
        expect(
          Math.abs(invFreq[i]! - c.invFreq[i]!) / c.invFreq[i]!,
          `${where} [${i}]`,
        ).toBeLessThan(1e-6);
      expect(attentionFactor, where).toBeCloseTo(c.attentionFactor, 12);
    }
  });
});

describe('options are checked, never silently ignored', () => {
  it('names an unknown scaling key and lists the known ones', () => {
    expect(() =>
      inverseFrequencies({
        dim: 64,
        scaling: { type: 'yarn', factor: 4, originalMaxPositions: 4096, truncat: false } as never,
      }),
    ).toThrow(
      /rope: scaling 'yarn': unknown option "truncat" \(known options: type, factor, .*truncate/,
    );
    expect(() =>
      inverseFrequencies({
        dim: 64,
        scaling: {
          type: 'llama3',
          factor: 8,
          originalMaxPositions: 8192,
          smoothMethod: 1,
        } as never,
      }),
    ).toThrow(/unknown option "smoothMethod"/);
    expect(() => inverseFrequencies({ dim: 64, thetaa: 5 } as never)).toThrow(
      'rope: unknown option "thetaa" (known options: dim, theta, scaling)',
    );
    expect(() => inverseFrequencies({ dim: 64, scaling: { type: 'dynamic' } as never })).toThrow(
      'rope: unknown scaling type "dynamic" (known: none, linear, ntk, yarn, llama3)',
    );
  });

  it('names bad values', () => {
    expect(() => inverseFrequencies({ dim: 4, scaling: { type: 'linear', factor: 0.5 } })).toThrow(
      /factor must be >= 1, got 0\.5/,
    );
    expect(() => inverseFrequencies({ dim: 4, scaling: { type: 'linear' } as never })).toThrow(
      /factor must be >= 1, got undefined/,
    );
    expect(() =>
      inverseFrequencies({ dim: 4, scaling: { type: 'yarn', factor: 2 } as never }),
    ).toThrow('rope: scaling originalMaxPositions must be a positive number, got undefined');
    expect(() => ropeTables({ dim: 4 }, 0)).toThrow(/positions must be a positive integer, got 0/);
    const yarn = { type: 'yarn', factor: 4, originalMaxPositions: 64 } as const;
    expect(() => inverseFrequencies({ dim: 8, scaling: { ...yarn, betaFast: -1 } })).toThrow(
      'rope: scaling betaFast must be a number >= 0, got -1',
    );
    expect(() =>
      inverseFrequencies({ dim: 8, scaling: { ...yarn, truncate: 'no' as never } }),
    ).toThrow('rope: scaling truncate must be true or false, got "no"');
  });

  it('tables carry the attention factor on cos and sin', () => {
    const scaling = {
      type: 'yarn',
      factor: 4,
      originalMaxPositions: 64,
      attentionFactor: 2,
    } as const;
    const { cos, sin } = ropeTables({ dim: 4, scaling }, 3);
    const { invFreq } = inverseFrequencies({ dim: 4, scaling });
    expect(cos[2 * 2 + 1]).toBeCloseTo(2 * Math.cos(2 * invFreq[1]!), 6);
    expect(sin[2 * 2 + 1]).toBeCloseTo(2 * Math.sin(2 * invFreq[1]!), 6);
  });
});
