import {
  addmm,
  checkOptions,
  type Device,
  dropout,
  embedding,
  gelu,
  layerNorm,
  matmul,
  ones,
  relu,
  rmsNorm,
  silu,
  swiglu,
  type Tensor,
  tanh,
  transpose,
  zeros,
} from '@tessera/tensor-webgpu';
import { type InitOptions, linearDefaultInit, normalInit } from './init.js';
import { Module, parameter } from './module.js';

export interface LinearOptions extends InitOptions {
  /** Add a learned bias (default true). */
  bias?: boolean;
  /** Initial weight [out, in]; by default PyTorch's uniform(±1/√in). The layer owns it from then on. */
  weight?: Tensor;
}

/**
 * y = x Wᵀ + b, with W of shape [out, in] as in PyTorch and Hugging Face checkpoints.
 *
 * @throws TypeError - an unknown option key
 * @throws RangeError - a size that is not a positive integer, or a `weight` of another shape
 */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | undefined;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    checkOptions('Linear', options, ['device', 'seed', 'bias', 'weight']);
    checkSize('Linear', 'inFeatures', inFeatures);
    checkSize('Linear', 'outFeatures', outFeatures);
    const init = { device: options.device, seed: options.seed };
    this.weight = parameter(
      options.weight ?? linearDefaultInit([outFeatures, inFeatures], inFeatures, init),
    );
    if (this.weight.shape.join() !== `${outFeatures},${inFeatures}`) {
      throw new RangeError(
        `Linear: weight must be [${outFeatures}, ${inFeatures}], got [${this.weight.shape.join(', ')}]`,
      );
    }
    this.bias =
      options.bias === false
        ? undefined
        : parameter(linearDefaultInit([outFeatures], inFeatures, init));
  }

  forward(x: Tensor): Tensor {
    const last = x.shape[x.rank - 1];
    if (last !== this.inFeatures) {
      throw new RangeError(
        `Linear: input's last dimension is ${last}, expected inFeatures = ${this.inFeatures} (input [${x.shape.join(', ')}])`,
      );
    }
    // The bias add is fused into the matmul kernel's store.
    return this.bias
      ? addmm(this.bias, x, transpose(this.weight))
      : matmul(x, transpose(this.weight));
  }
}

/** Options of `Embedding`. */
export interface EmbeddingOptions extends InitOptions {
  /** Std of the normal initialisation (default 1, as PyTorch). */
  std?: number;
  /** Initial table [num, dim]; the layer owns it from then on. */
  weight?: Tensor;
}

/**
 * Lookup table [num, dim]; `attend(h)` uses it as an output head for weight tying.
 *
 * @throws TypeError - an unknown option key
 * @throws RangeError - a size that is not a positive integer
 */
export class Embedding extends Module {
  weight: Tensor;

  constructor(
    readonly numEmbeddings: number,
    readonly dim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    checkOptions('Embedding', options, ['device', 'seed', 'std', 'weight']);
    checkSize('Embedding', 'numEmbeddings', numEmbeddings);
    checkSize('Embedding', 'dim', dim);
    this.weight = parameter(
      options.weight ??
        normalInit([numEmbeddings, dim], options.std ?? 1, {
          device: options.device,
          seed: options.seed,
        }),
    );
  }

  /** Rows for i32 `ids` of any shape → [...ids.shape, dim]. */
  forward(ids: Tensor): Tensor {
    if (ids.dtype !== 'i32') throw new TypeError(`Embedding: ids must be i32, got ${ids.dtype}`);
    return embedding(this.weight, ids);
  }

  /** Logits over the table from hidden states [..., dim]: h Wᵀ (a tied output head). */
  attend(h: Tensor): Tensor {
    return matmul(h, transpose(this.weight));
  }
}

/** Options of `LayerNorm`. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn a weight (and bias) (default true). */
  affine?: boolean;
  /** Learn a bias when affine (default true). */
  bias?: boolean;
  device?: Device;
}

/**
 * LayerNorm over the last dimension, with optional affine weight and bias.
 *
 * @throws TypeError - an unknown option key
 */
export class LayerNorm extends Module {
  weight: Tensor | undefined;
  bias: Tensor | undefined;

  constructor(
    readonly dim: number,
    readonly options: LayerNormOptions = {},
  ) {
    super();
    checkOptions('LayerNorm', options, ['eps', 'affine', 'bias', 'device']);
    checkSize('LayerNorm', 'dim', dim);
    const affine = options.affine ?? true;
    this.weight = affine ? parameter(ones([dim], { device: options.device })) : undefined;
    this.bias =
      affine && options.bias !== false
        ? parameter(zeros([dim], { device: options.device }))
        : undefined;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.options.eps ?? 1e-5);
  }
}

/** Options of `RMSNorm`. */
export interface RMSNormOptions {
  /** Added to the mean square (default 1e-6). */
  eps?: number;
  device?: Device;
}

/**
 * RMSNorm over the last dimension with a learned scale (Llama's norm).
 *
 * @throws TypeError - an unknown option key
 */
export class RMSNorm extends Module {
  weight: Tensor;

  constructor(
    readonly dim: number,
    readonly options: RMSNormOptions = {},
  ) {
    super();
    checkOptions('RMSNorm', options, ['eps', 'device']);
    checkSize('RMSNorm', 'dim', dim);
    this.weight = parameter(ones([dim], { device: options.device }));
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.options.eps ?? 1e-6);
  }
}

/** Inverted dropout while training; the identity in eval mode. */
export class Dropout extends Module {
  constructor(readonly p: number) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`Dropout: p must be in [0, 1), got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training });
  }
}

export type Activation = 'gelu' | 'gelu_tanh' | 'relu' | 'silu' | 'tanh';
const ACTIVATIONS: readonly string[] = ['gelu', 'gelu_tanh', 'relu', 'silu', 'tanh'];

/** Applies a named activation function. */
export function activate(x: Tensor, name: Activation): Tensor {
  switch (name) {
    case 'gelu':
      return gelu(x);
    case 'gelu_tanh':
      return gelu(x, { approximate: 'tanh' });
    case 'relu':
      return relu(x);
    case 'silu':
      return silu(x);
    case 'tanh':
      return tanh(x);
    default:
      throw new TypeError(
        `activation must be one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(name)}`,
      );
  }
}

function activationCheck(where: string, name: string): void {
  if (!ACTIVATIONS.includes(name))
    throw new TypeError(
      `${where}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(name)}`,
    );
}

/** An activation function as a module. */
export class Act extends Module {
  constructor(readonly name: Activation) {
    super();
    activationCheck('Act', name);
  }

  forward(x: Tensor): Tensor {
    return activate(x, this.name);
  }
}

export interface MLPOptions extends InitOptions {
  activation?: Activation;
  bias?: boolean;
  /** Std of the output projection (GPT-2 scales it by 1/√(2·layers)); default PyTorch init. */
  projStd?: number;
  std?: number;
}

function initWeight(shape: [number, number], std: number | undefined, options: InitOptions) {
  const { device, seed } = options;
  return std === undefined ? undefined : normalInit(shape, std, { device, seed });
}

/**
 * GPT-style feed-forward: `c_proj(act(c_fc(x)))`.
 *
 * @throws TypeError - an unknown option key or activation
 */
export class MLP extends Module {
  c_fc: Linear;
  c_proj: Linear;

  constructor(
    dim: number,
    hidden: number,
    readonly options: MLPOptions = {},
  ) {
    super();
    checkOptions('MLP', options, ['device', 'seed', 'activation', 'bias', 'projStd', 'std']);
    if (options.activation !== undefined) activationCheck('MLP', options.activation);
    const { device, seed, bias } = options;
    this.c_fc = new Linear(dim, hidden, {
      device,
      seed,
      bias,
      weight: initWeight([hidden, dim], options.std, options),
    });
    this.c_proj = new Linear(hidden, dim, {
      device,
      seed,
      bias,
      weight: initWeight([dim, hidden], options.projStd ?? options.std, options),
    });
  }

  forward(x: Tensor): Tensor {
    return this.c_proj.forward(activate(this.c_fc.forward(x), this.options.activation ?? 'gelu'));
  }
}

/**
 * Llama-style gated feed-forward: `down_proj(silu(gate_proj(x)) · up_proj(x))`, no biases.
 *
 * @throws TypeError - an unknown option key
 */
export class SwiGLU extends Module {
  gate_proj: Linear;
  up_proj: Linear;
  down_proj: Linear;

  constructor(dim: number, hidden: number, options: Omit<MLPOptions, 'activation' | 'bias'> = {}) {
    super();
    checkOptions('SwiGLU', options, ['device', 'seed', 'projStd', 'std']);
    const { device, seed } = options;
    const lin = (i: number, o: number, std?: number) =>
      new Linear(i, o, { device, seed, bias: false, weight: initWeight([o, i], std, options) });
    this.gate_proj = lin(dim, hidden, options.std);
    this.up_proj = lin(dim, hidden, options.std);
    this.down_proj = lin(hidden, dim, options.projStd ?? options.std);
  }

  forward(x: Tensor): Tensor {
    // silu(gate)·up in one fused kernel (and one backward kernel for both gradients).
    return this.down_proj.forward(swiglu(this.gate_proj.forward(x), this.up_proj.forward(x)));
  }
}

/** Runs modules in order; children are named `0`, `1`, ... */
export class Sequential extends Module {
  layers: Module[];

  constructor(...layers: (Module & { forward(x: Tensor): Tensor })[]) {
    super();
    this.layers = layers;
  }

  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.layers) y = (m as unknown as { forward(x: Tensor): Tensor }).forward(y);
    return y;
  }
}

function checkSize(layer: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${layer}: ${name} must be a positive integer, got ${value}`);
}
