import {
  checkOptions,
  type Device,
  getDefaultDevice,
  mul,
  rand,
  randn,
  sub,
  type Tensor,
} from '@tessera/tensor-webgpu';

/** Options every initialiser takes. */
export interface InitOptions {
  device?: Device;
  /** Philox seed; by default drawn from the global seed (`manualSeed`). */
  seed?: number;
}

const INIT_KEYS = ['device', 'seed'] as const;

/** Normal(0, std²) values of `shape` (GPT-2 uses std 0.02). */
export function normalInit(shape: number[], std: number, options: InitOptions = {}): Tensor {
  checkOptions('normalInit', options, INIT_KEYS);
  const z = randn(shape, { device: options.device ?? getDefaultDevice(), seed: options.seed });
  const out = mul(z, std);
  z.dispose();
  return out;
}

/** Uniform(-bound, bound) values of `shape`. */
export function uniformInit(shape: number[], bound: number, options: InitOptions = {}): Tensor {
  checkOptions('uniformInit', options, INIT_KEYS);
  const u = rand(shape, { device: options.device ?? getDefaultDevice(), seed: options.seed });
  const scaled = mul(u, 2 * bound);
  const out = sub(scaled, bound);
  u.dispose();
  scaled.dispose();
  return out;
}

/** Glorot/Xavier uniform: bound √(6 / (fanIn + fanOut)). */
export function xavierUniform(shape: [number, number], options: InitOptions = {}): Tensor {
  checkOptions('xavierUniform', options, INIT_KEYS);
  const [fanOut, fanIn] = shape;
  return uniformInit(shape, Math.sqrt(6 / (fanIn + fanOut)), options);
}

/** Kaiming/He normal for ReLU-family layers: std √(2 / fanIn). */
export function kaimingNormal(shape: [number, number], options: InitOptions = {}): Tensor {
  checkOptions('kaimingNormal', options, INIT_KEYS);
  return normalInit(shape, Math.sqrt(2 / shape[1]), options);
}

/** PyTorch's default for Linear weights and biases: uniform with bound 1/√fanIn. */
export function linearDefaultInit(
  shape: number[],
  fanIn: number,
  options: InitOptions = {},
): Tensor {
  checkOptions('linearDefaultInit', options, INIT_KEYS);
  return uniformInit(shape, 1 / Math.sqrt(fanIn), options);
}

/**
 * GPT-2's scaled init for projections into the residual stream: std / √(2·layers), so the
 * residual's variance does not grow with depth.
 */
export function residualStd(std: number, layers: number): number {
  if (!(layers >= 1)) throw new RangeError(`residualStd: layers must be >= 1, got ${layers}`);
  return std / Math.sqrt(2 * layers);
}
