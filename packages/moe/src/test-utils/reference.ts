import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Device, type Tensor, tensor } from '@tessera/tensor-webgpu';
import { MoE, type MoEOptions } from '../moe.js';

/** A tensor in the fixture: its shape and row-major values. */
export interface Flat {
  shape: number[];
  data: number[];
}

/** One case of fixtures/moe-reference.json (written by fixtures/make_fixtures.py). */
export interface ReferenceCase {
  config: {
    tokens: [number, number];
    dim: number;
    hidden: number;
    experts: number;
    top_k: number;
    scoring: 'softmax' | 'sigmoid';
    normalize: boolean;
    scale: number;
    capacity_factor: number | null;
    expert: 'swiglu' | 'gelu';
    shared: number;
    bias: boolean;
    lb_coef: number;
    z_coef: number;
    rate?: number;
  };
  params: Record<string, Flat>;
  x: Flat;
  cotangent: Flat;
  y: Flat;
  indices: number[][];
  weights: Flat;
  counts: number[];
  kept: number[];
  capacity: number;
  load_balance: number;
  load_balance_hf: number;
  z_loss: number;
  loss: number;
  grads: Record<string, Flat>;
  bias?: Flat;
  bias_after_update?: Flat;
}

export const reference: Record<string, ReferenceCase> = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../fixtures/moe-reference.json'), 'utf8'),
).cases;

export function toTensor(f: Flat, device: Device): Tensor {
  return tensor(f.data, { shape: f.shape, device });
}

/** The case's layer options (the same router, capacity, experts and loss weights). */
export function caseOptions(c: ReferenceCase, device: Device): MoEOptions {
  const k = c.config;
  return {
    dim: k.dim,
    hidden: k.hidden,
    experts: k.experts,
    topK: k.top_k,
    scoring: k.scoring,
    normalize: k.normalize,
    routedScale: k.scale,
    capacityFactor: k.capacity_factor ?? undefined,
    expert: k.expert,
    sharedExperts: k.shared,
    loadBalanceCoef: k.lb_coef,
    zLossCoef: k.z_coef,
    biasUpdateRate: k.rate,
    device,
  };
}

/** An `MoE` built from the case with its weights (and selection bias) loaded. */
export function referenceLayer(c: ReferenceCase, device: Device): MoE {
  const layer = new MoE(caseOptions(c, device));
  const dict = Object.fromEntries(
    Object.entries(c.params).map(([name, f]) => [name, toTensor(f, device)]),
  );
  if (c.bias) dict['gate.e_score_correction_bias'] = toTensor(c.bias, device);
  layer.loadStateDict(dict);
  return layer;
}
