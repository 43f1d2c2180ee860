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

/** Parameters of a preset's model (tied embedding counted once), without building it. */
export function presetParameters(p: Preset): number {
  const { dModel: d, layers, heads, kvHeads = heads } = p.model;
  const headDim = d / heads;
  const hidden = Math.ceil((8 * d) / 3 / 32) * 32;
  const perLayer = 2 * d + d * heads * headDim * 2 + d * kvHeads * headDim * 2 + 3 * d * hidden;
  return p.vocabSize * d + d + layers * perLayer;
}

/** The budget the Chinchilla rule gives: tokens, optimizer steps, and 6·N·D training FLOPs. */
export function presetBudget(p: Preset): {
  params: number;
  tokens: number;
  steps: number;
  flops: number;
} {
  const params = presetParameters(p);
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
