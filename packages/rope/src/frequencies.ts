import { checkOptions } from '@tessera/tensor-webgpu';

/**
 * RoPE inverse frequencies and their context-extension scalings, computed in float64 on the CPU.
 * Dimension pair i (0 ≤ i < d/2) rotates at θ_i = base^(−2i/d) radians per position.
 */

/** How the frequencies are stretched for contexts longer than the model was trained on. */
export type RopeScaling =
  | { type: 'none' }
  /** Position interpolation (Chen et al. 2023): every frequency divided by `factor`. */
  | { type: 'linear'; factor: number }
  /** NTK-aware: the base raised to base·factor^(d/(d−2)), stretching low frequencies most. */
  | { type: 'ntk'; factor: number }
  /**
   * YaRN (Peng et al. 2023), with Hugging Face's `rope_scaling` keys in camelCase and read as
   * transformers' `_compute_yarn_parameters` reads them: interpolate low frequencies, keep high
   * ones, and ramp linearly between the dims whose wavelength fits `betaFast` (default 32) and
   * `betaSlow` (default 1) rotations into the original context (0 also means the default, as
   * Hugging Face's `beta_fast or 32`). The ramp's ends are rounded outwards unless `truncate` is
   * false (default true; gpt-oss sets it false). cos and sin are multiplied by the attention
   * factor, applied once: `attentionFactor` when given, else mscale(factor, mscale) /
   * mscale(factor, mscaleAllDim) when both are given and non-zero (DeepSeek), else
   * mscale(factor, 1), where mscale(s, m) = 0.1·m·ln(s) + 1 (1 for s ≤ 1). As in Hugging Face,
   * `mscale` alone does not change the factor.
   */
  | {
      type: 'yarn';
      factor: number;
      originalMaxPositions: number;
      betaFast?: number;
      betaSlow?: number;
      truncate?: boolean;
      mscale?: number;
      mscaleAllDim?: number;
      attentionFactor?: number;
    }
  /** Llama 3.1: keep wavelengths below orig/highFreqFactor, divide those above orig/lowFreqFactor, blend between. */
  | {
      type: 'llama3';
      factor: number;
      originalMaxPositions: number;
      lowFreqFactor?: number;
      highFreqFactor?: number;
    };

export interface RopeConfig {
  /** Rotated dimensions (even); usually the head dimension. */
  dim: number;
  /** Frequency base θ (10 000 in the original paper, 500 000 in Llama 3). */
  theta?: number;
  scaling?: RopeScaling;
}

/** Inverse frequencies (d/2 values, float64) and the factor cos/sin are multiplied by. */
export function inverseFrequencies(config: RopeConfig): {
  invFreq: Float64Array;
  attentionFactor: number;
} {
  checkOptions('rope', config, ['dim', 'theta', 'scaling']);
  const { dim } = config;
  if (!Number.isInteger(dim) || dim < 2 || dim % 2 !== 0)
    throw new RangeError(`rope: dim must be an even integer >= 2, got ${dim}`);
  const theta = config.theta ?? 10_000;
  if (!(theta > 1)) throw new RangeError(`rope: theta must be > 1, got ${theta}`);
  const scaling = config.scaling ?? { type: 'none' };
  checkScaling(scaling);
  const half = dim / 2;
  const base = (b: number) => Float64Array.from({ length: half }, (_, i) => b ** ((-2 * i) / dim));
  if (scaling.type !== 'none' && !(scaling.factor >= 1))
    throw new RangeError(`rope: scaling factor must be >= 1, got ${scaling.factor}`);
  switch (scaling.type) {
    case 'none':
      return { invFreq: base(theta), attentionFactor: 1 };
    case 'linear':
      return { invFreq: base(theta).map((f) => f / scaling.factor), attentionFactor: 1 };
    case 'ntk':
      return { invFreq: base(theta * scaling.factor ** (dim / (dim - 2))), attentionFactor: 1 };
    case 'yarn': {
      const { factor, originalMaxPositions: orig } = scaling;
      positiveNumber('originalMaxPositions', orig, true);
      const betaFast = nonNegative('betaFast', scaling.betaFast) || 32;
      const betaSlow = nonNegative('betaSlow', scaling.betaSlow) || 1;
      if (scaling.truncate !== undefined && typeof scaling.truncate !== 'boolean')
        throw new TypeError(
          `rope: scaling truncate must be true or false, got ${JSON.stringify(scaling.truncate)}`,
        );
      const truncate = scaling.truncate ?? true;
      // The dim index whose wavelength makes `rotations` turns over the original context.
      const correction = (rotations: number) =>
        (dim * Math.log(orig / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
      const round = (x: number, f: (y: number) => number) => (truncate ? f(x) : x);
      const low = Math.max(round(correction(betaFast), Math.floor), 0);
      let high = Math.min(round(correction(betaSlow), Math.ceil), dim - 1);
      if (high === low) high += 0.001;
      const invFreq = base(theta).map((f, i) => {
        const ramp = Math.min(Math.max((i - low) / (high - low), 0), 1);
        const keep = 1 - ramp; // 1: keep the original frequency (extrapolate); 0: interpolate
        return (f / factor) * (1 - keep) + f * keep;
      });
      return { invFreq, attentionFactor: yarnAttentionFactor(scaling) };
    }
    case 'llama3': {
      const { factor, originalMaxPositions: orig } = scaling;
      positiveNumber('originalMaxPositions', orig, true);
      const lowFreqFactor = scaling.lowFreqFactor ?? 1;
      const highFreqFactor = scaling.highFreqFactor ?? 4;
      const lowWavelen = orig / lowFreqFactor;
      const highWavelen = orig / highFreqFactor;
      const invFreq = base(theta).map((f) => {
        const wavelen = (2 * Math.PI) / f;
        if (wavelen < highWavelen) return f;
        if (wavelen > lowWavelen) return f / factor;
        const smooth = (orig / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return (1 - smooth) * (f / factor) + smooth * f;
      });
      return { invFreq, attentionFactor: 1 };
    }
  }
}

/** The keys each scaling type reads: any other key is a mistake, not an option. */
const SCALING_KEYS: Record<RopeScaling['type'], readonly string[]> = {
  none: ['type'],
  linear: ['type', 'factor'],
  ntk: ['type', 'factor'],
  yarn: [
    'type',
    'factor',
    'originalMaxPositions',
    'betaFast',
    'betaSlow',
    'truncate',
    'mscale',
    'mscaleAllDim',
    'attentionFactor',
  ],
  llama3: ['type', 'factor', 'originalMaxPositions', 'lowFreqFactor', 'highFreqFactor'],
};

function checkScaling(scaling: RopeScaling): void {
  const type = (scaling as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !(type in SCALING_KEYS))
    throw new TypeError(
      `rope: unknown scaling type ${JSON.stringify(type)} (known: ${Object.keys(SCALING_KEYS).join(', ')})`,
    );
  checkOptions(`rope: scaling '${type}'`, scaling, SCALING_KEYS[type as RopeScaling['type']]);
}

function positiveNumber(name: string, value: number | undefined, required = false): void {
  if ((required || value !== undefined) && !(Number.isFinite(value) && value! > 0))
    throw new RangeError(`rope: scaling ${name} must be a positive number, got ${value}`);
}

/** A YaRN option that is a number ≥ 0 when given (0 and undefined both mean "the default"). */
function nonNegative(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0))
    throw new RangeError(`rope: scaling ${name} must be a number >= 0, got ${value}`);
  return value;
}

/** YaRN's attention temperature, read as Hugging Face's `_compute_yarn_parameters` reads it. */
function yarnAttentionFactor(s: Extract<RopeScaling, { type: 'yarn' }>): number {
  positiveNumber('attentionFactor', s.attentionFactor);
  if (s.attentionFactor !== undefined) return s.attentionFactor;
  const mscale = (scale: number, m: number) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
  const m = nonNegative('mscale', s.mscale);
  const mAll = nonNegative('mscaleAllDim', s.mscaleAllDim);
  if (m && mAll) return mscale(s.factor, m) / mscale(s.factor, mAll);
  return mscale(s.factor, 1);
}

/**
 * cos and sin tables [positions, d/2] in float64 (then stored as f32): angles p·θ_i are computed
 * here, because WGSL's sin/cos lose accuracy far outside [−π, π].
 */
export function ropeTables(
  config: RopeConfig,
  positions: number,
): { cos: Float32Array; sin: Float32Array } {
  if (!Number.isInteger(positions) || positions < 1)
    throw new RangeError(`rope: positions must be a positive integer, got ${positions}`);
  const { invFreq, attentionFactor } = inverseFrequencies(config);
  const half = invFreq.length;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * invFreq[i]!;
      cos[p * half + i] = Math.cos(angle) * attentionFactor;
      sin[p * half + i] = Math.sin(angle) * attentionFactor;
    }
  }
  return { cos, sin };
}
