import type { TransformerConfig } from '@tessera/transformer';

/** A training recipe: model shape, tokenizer size, and the token budget (Chinchilla: ≈ 20 tokens/parameter). */
export interface Preset {
  name: string;
  description: string;
  vocabSize: number;
  model: Omit<TransformerConfig, 'vocabSize'>;
  batchSize: number;
  seqLen: number;
  lr: number;
  warmupSteps: number;
  evalInterval: number;
}

export const PRESETS: Record<string, Preset> = {
  tiny: {
    name: 'tiny',
    description: 'minutes on a 2-core CPU through lavapipe',
    vocabSize: 384,
    model: {
      dModel: 48,
      layers: 2,
      heads: 4,
      kvHeads: 2,
      maxSeqLen: 64,
      ffn: 'swiglu',
      tiedEmbeddings: true,
      seed: 1,
    },
    batchSize: 32,
    seqLen: 64,
    lr: 3e-3,
    warmupSteps: 50,
    evalInterval: 200,
  },
  small: {
    name: 'small',
    description: 'a real GPU, tens of minutes',
    vocabSize: 4096,
    model: {
      dModel: 256,
      layers: 6,
      heads: 8,
      kvHeads: 4,
      maxSeqLen: 256,
      ffn: 'swiglu',
      tiedEmbeddings: true,
      seed: 1,
    },
    batchSize: 32,
    seqLen: 256,
    lr: 1e-3,
    warmupSteps: 200,
    evalInterval: 500,
  },
  base: {
    name: 'base',
    description: 'a large GPU, hours (GPT-2 small scale)',
    vocabSize: 16384,
    model: {
      dModel: 768,
      layers: 12,
      heads: 12,
      kvHeads: 4,
      maxSeqLen: 512,
      ffn: 'swiglu',
      tiedEmbeddings: true,
      seed: 1,
    },
    batchSize: 32,
    seqLen: 512,
    lr: 6e-4,
    warmupSteps: 1000,
    evalInterval: 1000,
  },
};

/** A dense SwiGLU FFN's default width for `dModel` (the transformer's: ⌈8/3·d⌉ rounded up to 32). */
const swigluHidden = (d: number) => Math.ceil((8 * d) / 3 / 32) * 32;

/**
 * Parameters of a preset's model (tied embedding counted once), without building it: `total`,
 * and `active`, those one token uses — the same for a dense model; for a mixture of experts the
 * router, the shared experts and k of the E routed experts.
 */
export function presetParameters(p: Preset): { total: number; active: number } {
  const { dModel: d, layers, heads, kvHeads = heads, moe } = p.model;
  const headDim = d / heads;
  const attention = 2 * d + d * heads * headDim * 2 + d * kvHeads * headDim * 2;
  const dense = p.model.ffnHidden ?? swigluHidden(d);
  const expert = 3 * d * (moe?.hidden ?? dense); // one SwiGLU expert: gate, up, down
  const shared = (moe?.sharedExperts ?? 0) * expert;
  const ffn = moe
    ? {
        total: moe.experts * d + moe.experts * expert + shared,
        active: moe.experts * d + moe.topK * expert + shared,
      }
    : { total: 3 * d * dense, active: 3 * d * dense };
  const rest = p.vocabSize * d + d + layers * attention;
  return { total: rest + layers * ffn.total, active: rest + layers * ffn.active };
}

/** How a preset's MoE variant routes and balances (`pretrain --moe 8x2 --shared-experts 1 --balance aux`). */
export interface MoEChoice {
  experts: number;
  topK: number;
  /** Always-on experts (DeepSeekMoE); default 0. */
  sharedExperts?: number;
  /**
   * `aux`: the load-balancing loss (coefficient 0.01, this package's normalisation); `aux-free`:
   * DeepSeek-V3's selection bias (γ = AUX_FREE_RATE) and no balancing loss. Default `aux`.
   */
  balance?: 'aux' | 'aux-free';
  /**
   * Expert capacity factor (`@tessera/moe`'s `capacityFactor`: each expert keeps at most
   * ⌈factor · N · k / E⌉ of a batch's N·k assignments, the rest dropped); default none, dropless.
   */
  capacityFactor?: number;
}

/**
 * γ of `--balance aux-free`: DeepSeek-V3 used 0.001 over 14.8 T tokens; runs of a few hundred
 * steps need the bias to move faster against softmax scores of about 1/E.
 */
export const AUX_FREE_RATE = 0.005;

/**
 * The MoE variant of a dense SwiGLU preset with the same active parameters per token: each
 * block's FFN of width H becomes E experts of width h = H / (k + s) (rounded), k chosen per
 * token, s shared, so k·h + s·h = H and a token does the multiply-adds of the dense FFN (plus
 * the router's E·dModel). Softmax top-k routing, renormalised over the chosen (Mixtral); dropless.
 * Named `<preset>-moe<E>x<k>[s<s>][-auxfree]`.
 *
 * @throws RangeError - k outside [1, E], s < 0, or an expert width below 1
 * @throws TypeError - a preset that is not dense SwiGLU
 */
export function moePreset(p: Preset, m: MoEChoice): Preset {
  const { experts, topK, sharedExperts = 0, balance = 'aux', capacityFactor } = m;
  if (p.model.ffn !== undefined && p.model.ffn !== 'swiglu')
    throw new TypeError(
      `moePreset: preset ${p.name} is not a dense SwiGLU model (ffn ${String(p.model.ffn)})`,
    );
  if (!Number.isInteger(experts) || !Number.isInteger(topK) || topK < 1 || topK > experts)
    throw new RangeError(
      `moePreset: top-k must be an integer in [1, experts = ${experts}], got ${topK}`,
    );
  if (!Number.isInteger(sharedExperts) || sharedExperts < 0)
    throw new RangeError(`moePreset: sharedExperts must be an integer >= 0, got ${sharedExperts}`);
  if (capacityFactor !== undefined && !(capacityFactor > 0))
    throw new RangeError(`moePreset: capacityFactor must be a number > 0, got ${capacityFactor}`);
  const dense = p.model.ffnHidden ?? swigluHidden(p.model.dModel);
  const hidden = Math.round(dense / (topK + sharedExperts));
  if (hidden < 1)
    throw new RangeError(
      `moePreset: FFN width ${dense} split over ${topK + sharedExperts} experts leaves none`,
    );
  return {
    ...p,
    name: moePresetName(p.name, m),
    description: `${p.description}; ${experts} experts of width ${hidden}, ${topK} per token${sharedExperts ? ` + ${sharedExperts} shared` : ''}, ${balance === 'aux' ? 'load-balancing loss' : 'auxiliary-loss-free bias'}${capacityFactor === undefined ? '' : `, capacity factor ${capacityFactor}`}`,
    model: {
      ...p.model,
      ffn: 'moe',
      moe: {
        experts,
        topK,
        hidden,
        ...(sharedExperts > 0 ? { sharedExperts } : {}),
        ...(balance === 'aux-free' ? { biasUpdateRate: AUX_FREE_RATE } : {}),
        ...(capacityFactor === undefined ? {} : { capacityFactor }),
      },
    },
  };
}

/** The name of a preset's MoE variant: `<preset>-moe<E>x<k>[s<s>][-auxfree][-cf<factor>]`. */
export function moePresetName(base: string, m: MoEChoice): string {
  const shared = m.sharedExperts ? `s${m.sharedExperts}` : '';
  const capacity = m.capacityFactor === undefined ? '' : `-cf${m.capacityFactor}`;
  return `${base}-moe${m.experts}x${m.topK}${shared}${m.balance === 'aux-free' ? '-auxfree' : ''}${capacity}`;
}

/** The preset a name is a variant of: `tiny-moe8x2s1` → `tiny` (`moePresetName`'s inverse); other names unchanged. */
export function basePresetName(name: string): string {
  return name.replace(/-moe\d+x\d+(s\d+)?(-auxfree)?(-cf[\d.e+-]+)?$/, '');
}

/** `8x2` → 8 experts, top-2. */
export function parseMoE(spec: string): { experts: number; topK: number } {
  const m = /^(\d+)x(\d+)$/.exec(spec);
  const [experts, topK] = [Number(m?.[1]), Number(m?.[2])];
  if (!m || experts < 1 || topK < 1 || topK > experts)
    throw new RangeError(
      `--moe must be EXPERTSxTOPK with 1 <= TOPK <= EXPERTS (e.g. 8x2), got ${JSON.stringify(spec)}`,
    );
  return { experts, topK };
}

/**
 * The budget the Chinchilla rule gives: tokens, optimizer steps, and 6·N·D training FLOPs, with
 * N the active parameters (so an MoE variant gets its dense preset's tokens and FLOPs).
 */
export function presetBudget(p: Preset): {
  params: number;
  tokens: number;
  steps: number;
  flops: number;
} {
  const params = presetParameters(p).active;
  const tokens = 20 * params;
  const steps = Math.ceil(tokens / (p.batchSize * p.seqLen));
  return { params, tokens, steps, flops: 6 * params * tokens };
}

/** The `scaling` command's table. */
export function scalingTable(): string {
  const fmt = (n: number) =>
    n >= 1e18
      ? `${(n / 1e18).toFixed(2)}E`
      : n >= 1e15
        ? `${(n / 1e15).toFixed(2)}P`
        : n >= 1e12
          ? `${(n / 1e12).toFixed(2)}T`
          : n >= 1e9
            ? `${(n / 1e9).toFixed(2)}G`
            : n >= 1e6
              ? `${(n / 1e6).toFixed(2)}M`
              : `${(n / 1e3).toFixed(1)}k`;
  const rows = Object.values(PRESETS).map((p) => {
    const b = presetBudget(p);
    return `| ${p.name} | ${p.model.layers}×${p.model.dModel}, ${p.model.heads} heads | ${fmt(b.params)} | ${fmt(b.tokens)} | ${b.steps} | ${fmt(b.flops)} | ${p.description} |`;
  });
  return [
    '| preset | shape | parameters N | tokens D = 20·N | steps | 6·N·D FLOPs | for |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
