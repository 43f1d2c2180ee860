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
   * YaRN (Peng et al. 2023): interpolate low frequencies, keep high ones, ramp between the dims
   * whose wavelength fits `betaFast` and `betaSlow` rotations into the original context; cos and
   * sin are multiplied by the attention temperature 0.1·ln(factor) + 1 (`mscale`), applied once.
   */
  | {
      type: 'yarn';
      factor: number;
      originalMaxPositions: number;
      betaFast?: number;
      betaSlow?: number;
      mscale?: number;
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
  const { dim } = config;
  if (!Number.isInteger(dim) || dim < 2 || dim % 2 !== 0)
    throw new RangeError(`rope: dim must be an even integer >= 2, got ${dim}`);
  const theta = config.theta ?? 10_000;
  if (!(theta > 1)) throw new RangeError(`rope: theta must be > 1, got ${theta}`);
  const scaling = config.scaling ?? { type: 'none' };
  const half = dim / 2;
  const base = (b: number) => Float64Array.from({ length: half }, (_, i) => b ** ((-2 * i) / dim));
  if ('factor' in scaling && !(scaling.factor >= 1))
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
      const betaFast = scaling.betaFast ?? 32;
      const betaSlow = scaling.betaSlow ?? 1;
      // The dim index whose wavelength makes `rotations` turns over the original context.
      const correction = (rotations: number) =>
        (dim * Math.log(orig / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
      const low = Math.max(Math.floor(correction(betaFast)), 0);
      const high = Math.min(Math.ceil(correction(betaSlow)), dim - 1);
      const extrapolated = base(theta);
      const invFreq = extrapolated.map((f, i) => {
        const ramp = Math.min(Math.max((i - low) / Math.max(high - low, 0.001), 0), 1);
        const keep = 1 - ramp; // 1: keep the original frequency (extrapolate); 0: interpolate
        return (f / factor) * (1 - keep) + f * keep;
      });
      const mscale = scaling.mscale ?? 0.1 * Math.log(factor) + 1;
      return { invFreq, attentionFactor: mscale };
    }
    case 'llama3': {
      const { factor, originalMaxPositions: orig } = scaling;
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
    default:
      throw new TypeError(
        `rope: unknown scaling type ${JSON.stringify((scaling as { type: unknown }).type)}`,
      );
  }
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
