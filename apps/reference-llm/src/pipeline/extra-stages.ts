import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '@tessera/dllm';
import { loadBeir } from '@tessera/rag/node';
import type { Device } from '@tessera/tensor-webgpu';
import type { ViTConfig } from '@tessera/vit';
import { writeAtomic } from '../atomic-write.js';
import { DEFAULT_DATA, readText } from '../data.js';
import { defaultBlockLength } from '../dllm/decode-options.js';
import { loadDiffusionCheckpoint } from '../dllm/load.js';
import { trainDiffusion } from '../dllm/train.js';
import type { MoEChoice } from '../presets.js';
import { pretrain } from '../pretrain.js';
import { buildBenchmark, writeBenchmark } from '../rag/benchmark.js';
import { evaluateBenchmark } from '../rag/evaluate-retrieval.js';
import { writeNewFolder } from '../rag/new-folder.js';
import { MODEL_FILES, readRetrievalModels, saveRetrievalModels } from '../rag/retrieval-models.js';
import {
  RETRIEVAL_TRAINING,
  type RetrievalTrainingOptions,
  trainRetrievalModels,
} from '../rag/train-retrieval.js';
import { readCheckpoint } from '../run-folder.js';
import { vitTrain } from '../vit-train.js';
import { type PipelineContext, type StageOutcome, stageOptions, stageState } from './stages.js';

/** What the optional stages train; `EXTRA_SETTINGS` unless a pipeline run is given others. */
export interface ExtraSettings {
  /** The `moe` stage's mixture of experts (`pretrain --moe`, `--balance`). */
  moe: MoEChoice;
  /** The `dllm` stage's sample: greedy denoising of `length` tokens after `prompt`. */
  dllm: { prompt: string; length: number };
  /** The `vit` stage: steps without `--steps`, and `vit train`'s options it changes. */
  vit: { steps: number; batchSize?: number; model?: Partial<ViTConfig>; baseline?: boolean };
  /** The `rag` stage: passages of the benchmark (`rag bench --passages`) and `rag train`'s settings. */
  rag: { passages: number; training: Omit<RetrievalTrainingOptions, 'sink'> };
}

/**
 * The optional stages' settings: the MoE variant of the README's comparison (8 experts, top-2,
 * auxiliary-loss-free balancing: the variant that kept its experts balanced there), a 32-token
 * sample after `ROMEO:`, 200 ViT steps (`vit train` runs 940) and 100 steps of each retrieval
 * encoder (`rag train` runs 300) on `rag bench`'s default 1000 passages, so that none of them
 * costs much more than the pretraining it sits beside.
 */
export const EXTRA_SETTINGS: ExtraSettings = {
  moe: { experts: 8, topK: 2, balance: 'aux-free' },
  dllm: { prompt: 'ROMEO:', length: 32 },
  vit: { steps: 200 },
  rag: { passages: 1000, training: { ...RETRIEVAL_TRAINING, steps: 100, rerankSteps: 100 } },
};

/** The `dllm` stage's sample in its folder: `{ prompt, text, forwardPasses }`. */
export const DLLM_SAMPLE = 'sample.json';

/** The `rag` stage's figures in its folder: `rag eval`'s `BenchmarkEvaluation` as JSON. */
export const RAG_FIGURES = 'metrics.json';

/** The `rag` stage's sub-folders: `rag bench`'s BEIR files and `rag train`'s models. */
export const RAG_FOLDERS = { bench: 'bench', models: 'models' } as const;

/**
 * A stage outside the train → tune chain: its results are shown beside the chain's (the report's
 * "Beyond the chain"), no stage starts from it, and the default `--stages` leaves it out.
 */
export interface ExtraStage {
  name: string;
  /** The single commands that produce the same folder, for the help and the report. */
  command: string;
  /** How a stopped run continues: from its checkpoint, or what it keeps. */
  resume: string;
  /** Whether its folder holds nothing, part of a run, or all of it. */
  state: (dir: string) => 'empty' | 'partial' | 'complete';
  /** Runs (or continues, when `resume`) the stage into `dir`. */
  run: (c: PipelineContext, dir: string, resume: boolean) => Promise<StageOutcome>;
}

const settings = (c: PipelineContext) => c.extras ?? EXTRA_SETTINGS;

/** The same preset pretrained with a mixture of experts (`pretrain --moe`), to set beside the dense one. */
const moe: ExtraStage = {
  name: 'moe',
  command: `reference-llm pretrain --moe ${EXTRA_SETTINGS.moe.experts}x${EXTRA_SETTINGS.moe.topK} --balance ${EXTRA_SETTINGS.moe.balance} --out OUT/moe`,
  resume: 'from its last checkpoint',
  state: stageState,
  run: async (c, out, resume) => {
    const r = await pretrain({
      ...stageOptions(c, out, resume),
      preset: resume ? undefined : c.preset,
      moe: resume ? undefined : settings(c).moe,
      data: resume ? undefined : c.data,
    });
    return { steps: r.steps, totalSteps: r.totalSteps, stopReason: r.stopReason };
  },
};

/** Greedy denoising of the sample's span after its prompt, written to `DLLM_SAMPLE`. */
async function writeDiffusionSample(
  dir: string,
  device: Device,
  s: ExtraSettings['dllm'],
): Promise<void> {
  const { model, tokenizer } = loadDiffusionCheckpoint(dir, device);
  try {
    const prompt = tokenizer.encode(s.prompt, { disallowedSpecial: [] });
    const blockLength = defaultBlockLength(s.length, prompt.length, model.maxSequenceLength);
    const r = await generate(model, prompt, { length: s.length, blockLength, temperature: 0 });
    const sample = {
      prompt: s.prompt,
      text: tokenizer.decode(r.tokens),
      forwardPasses: r.forwardPasses,
    };
    writeAtomic(join(dir, DLLM_SAMPLE), `${JSON.stringify(sample, null, 1)}\n`);
  } finally {
    model.dispose();
  }
}

/** The masked diffusion LM on the same preset and text (`dllm train`), then a sample of it. */
const dllm: ExtraStage = {
  name: 'dllm',
  command: 'reference-llm dllm train --out OUT/dllm, then dllm generate',
  resume: 'from its last checkpoint',
  state: (dir) => {
    const trained = stageState(dir);
    return trained === 'complete' && !existsSync(join(dir, DLLM_SAMPLE)) ? 'partial' : trained;
  },
  run: async (c, out, resume) => {
    // A run whose training finished before its sample was written only samples.
    const r =
      stageState(out) === 'complete'
        ? undefined
        : await trainDiffusion({
            ...stageOptions(c, out, resume),
            preset: resume ? undefined : c.preset,
            data: resume ? undefined : c.data,
          });
    if (r?.stopReason)
      return { steps: r.steps, totalSteps: r.totalSteps, stopReason: r.stopReason };
    await writeDiffusionSample(out, c.device, settings(c).dllm);
    const { step, totalSteps } = readCheckpoint(out).state;
    return { steps: r?.steps ?? step, totalSteps };
  },
};

/** `vit train`'s MNIST task (and its MLP baseline), `--steps` or `EXTRA_SETTINGS.vit.steps` steps. */
const vit: ExtraStage = {
  name: 'vit',
  command: `reference-llm vit train --steps ${EXTRA_SETTINGS.vit.steps} --out OUT/vit`,
  resume: 'from its last checkpoint',
  state: stageState,
  run: async (c, out, resume) => {
    const s = settings(c).vit;
    const r = await vitTrain({
      out,
      resume: resume || undefined,
      steps: resume ? undefined : (c.steps ?? s.steps),
      batchSize: resume ? undefined : s.batchSize,
      model: resume ? undefined : s.model,
      baseline: s.baseline,
      device: c.device,
      stop: c.stop,
      sink: c.sink,
    });
    return { steps: r.vit.steps, totalSteps: r.totalSteps, stopReason: r.stopReason };
  },
};

/**
 * `rag bench`, `rag train` (each encoder `--steps` or the settings' steps) and `rag eval`'s
 * figures on the test split, as JSON. Encoder training keeps no checkpoint: a run stopped inside
 * it trains again; finished models are kept, and a stop signal is obeyed once they are.
 */
const rag: ExtraStage = {
  name: 'rag',
  command: `reference-llm rag bench --out OUT/rag/bench; rag train --bench OUT/rag/bench --out OUT/rag/models --steps ${EXTRA_SETTINGS.rag.training.steps} --rerank-steps ${EXTRA_SETTINGS.rag.training.rerankSteps}; rag eval`,
  resume: 'keeping the benchmark and trained models (encoder training itself starts over)',
  state: (dir) =>
    existsSync(join(dir, RAG_FIGURES))
      ? 'complete'
      : existsSync(join(dir, RAG_FOLDERS.bench))
        ? 'partial'
        : 'empty',
  run: async (c, out) => {
    const s = settings(c).rag;
    const bench = join(out, RAG_FOLDERS.bench);
    const modelsDir = join(out, RAG_FOLDERS.models);
    let models: Awaited<ReturnType<typeof trainRetrievalModels>>;
    if (existsSync(join(modelsDir, MODEL_FILES.manifest)))
      models = readRetrievalModels(modelsDir, c.device);
    else {
      // The benchmark is drawn with a fixed seed: drawing it again writes the same files.
      writeBenchmark(
        bench,
        buildBenchmark(readText(c.data ?? DEFAULT_DATA), { passages: s.passages }),
      );
      models = await trainRetrievalModels(await loadBeir(bench, 'train'), c.device, {
        ...s.training,
        steps: c.steps ?? s.training.steps,
        rerankSteps: c.steps ?? s.training.rerankSteps,
        tune: { split: 'dev', data: await loadBeir(bench, 'dev') },
        sink: c.sink,
      });
      await writeNewFolder(modelsDir, { what: 'the models', force: true }, (dir) =>
        saveRetrievalModels(dir, models),
      );
    }
    const training = models.manifest.training as {
      biEncoderLoss: number[];
      rerankerLoss: number[];
    };
    const steps = training.biEncoderLoss.length + training.rerankerLoss.length;
    try {
      if (c.stop.reason) return { steps, totalSteps: steps, stopReason: c.stop.reason };
      // The retrieval rag train chose on dev; models kept from before it was recorded choose it now.
      const tuning = models.manifest.tuned
        ? undefined
        : { split: 'dev', data: await loadBeir(bench, 'dev') };
      const { figures } = await evaluateBenchmark(bench, models, {
        split: 'test',
        tuning,
        sink: c.sink,
      });
      writeAtomic(join(out, RAG_FIGURES), `${JSON.stringify(figures, null, 1)}\n`);
    } finally {
      models.biEncoder.dispose();
      models.crossEncoder.dispose();
    }
    return { steps, totalSteps: steps };
  },
};

/**
 * The optional stages, in the order they run (after the chain's GRPO, before `eval`): each
 * through the function of its single command, into `OUT/<name>`, skipped when complete and
 * resumed like the chain's stages. `--stages` asks for them by name; the default leaves them out.
 */
export const EXTRA_STAGES: readonly ExtraStage[] = [moe, dllm, vit, rag];
