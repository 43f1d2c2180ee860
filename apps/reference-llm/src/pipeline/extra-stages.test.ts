import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '@tessera/dllm';
import { loadBeir } from '@tessera/rag/node';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { defaultBlockLength } from '../dllm/decode-options.js';
import { loadDiffusionCheckpoint } from '../dllm/load.js';
import { moePresetName } from '../presets.js';
import type { PretrainState } from '../pretrain.js';
import { evaluateBenchmark } from '../rag/evaluate-retrieval.js';
import { METHODS } from '../rag/retrieval-methods.js';
import { MODEL_FILES, readRetrievalModels } from '../rag/retrieval-models.js';
import { FILES, readCheckpoint } from '../run-folder.js';
import { microExtras } from '../test-utils/extras.js';
import { data, lines, micro, tempDir } from '../test-utils/fixtures.js';
import {
  DLLM_SAMPLE,
  EXTRA_SETTINGS,
  EXTRA_STAGES,
  RAG_FIGURES,
  RAG_FOLDERS,
} from './extra-stages.js';
import type { PipelineContext } from './stages.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

const extras = microExtras;
const context = (out: string, o: Partial<PipelineContext> = {}): PipelineContext => ({
  out,
  preset: micro,
  data,
  steps: 2,
  extras,
  device,
  stop: {},
  sink: lines(),
  ...o,
});
const stage = (name: string) => EXTRA_STAGES.find((s) => s.name === name)!;
const modelSha = (dir: string) => readCheckpoint(dir).state.files[FILES.model];

describe('EXTRA_STAGES', () => {
  it('lists moe, dllm, vit and rag, each naming the single command behind it', () => {
    expect(EXTRA_STAGES.map((s) => s.name)).toEqual(['moe', 'dllm', 'vit', 'rag']);
    expect(stage('moe').command).toBe(
      'reference-llm pretrain --moe 8x2 --balance aux-free --out OUT/moe',
    );
    for (const s of EXTRA_STAGES) expect(s.command).toMatch(/^reference-llm /);
  });

  it('moe: pretrains the preset with a mixture of experts, and resumes a stopped run', async () => {
    const out = tempDir();
    const dir = join(out, 'moe');
    const moe = stage('moe');
    expect(moe.state(dir)).toBe('empty');
    const stop: { reason?: 'SIGINT' } = {};
    const sink = {
      write: (t: string) => {
        if (t.includes(' 1/2')) stop.reason = 'SIGINT';
      },
    };
    const first = await moe.run(context(out, { stop, sink }), dir, false);
    expect(first).toEqual({ steps: 1, totalSteps: 2, stopReason: 'SIGINT' });
    expect(moe.state(dir)).toBe('partial');
    const second = await moe.run(context(out), dir, true);
    expect(second).toEqual({ steps: 2, totalSteps: 2, stopReason: undefined });
    expect(moe.state(dir)).toBe('complete');
    const { state } = readCheckpoint<PretrainState>(dir);
    expect(state.preset.name).toBe(moePresetName('micro', EXTRA_SETTINGS.moe));
    expect(state.model.moe).toMatchObject({ experts: 8, topK: 2 });
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.activeParameters).toBeLessThan(report.parameters);
    expect(Object.keys(report.finalMaxLoad)).toEqual(['model.layers.0.mlp']); // micro has one layer
    expect(readFileSync(join(dir, 'expert-load.svg'), 'utf8')).toContain('<svg');
  });

  it('dllm: trains the diffusion LM on the preset, then writes a greedy sample; a lost sample is redrawn without training', async () => {
    const out = tempDir();
    const dir = join(out, 'dllm');
    const dllm = stage('dllm');
    expect(await dllm.run(context(out), dir, false)).toEqual({ steps: 2, totalSteps: 2 });
    expect(dllm.state(dir)).toBe('complete');
    expect(readCheckpoint(dir).state).toMatchObject({ stage: 'dllm', step: 2 });
    const sample = JSON.parse(readFileSync(join(dir, DLLM_SAMPLE), 'utf8'));
    // The sample is `dllm generate`'s greedy denoising of the checkpoint.
    const { model, tokenizer } = loadDiffusionCheckpoint(dir, device);
    const prompt = tokenizer.encode('ROMEO:', { disallowedSpecial: [] });
    const want = await generate(model, prompt, {
      length: 6,
      blockLength: defaultBlockLength(6, prompt.length, model.maxSequenceLength),
      temperature: 0,
    });
    model.dispose();
    expect(sample).toEqual({
      prompt: 'ROMEO:',
      text: tokenizer.decode(want.tokens),
      forwardPasses: want.forwardPasses,
    });
    const sha = modelSha(dir);
    rmSync(join(dir, DLLM_SAMPLE));
    expect(dllm.state(dir)).toBe('partial');
    expect(await dllm.run(context(out), dir, true)).toEqual({ steps: 2, totalSteps: 2 });
    expect(modelSha(dir)).toBe(sha);
    expect(JSON.parse(readFileSync(join(dir, DLLM_SAMPLE), 'utf8'))).toEqual(sample);
  });

  it("vit: runs vit train's MNIST task for --steps steps, with its pictures", async () => {
    const out = tempDir();
    const dir = join(out, 'vit');
    const vit = stage('vit');
    const r = await vit.run(
      context(out, {
        steps: undefined,
        extras: { ...extras, vit: { ...extras.vit, baseline: false } },
      }),
      dir,
      false,
    );
    expect(r).toEqual({ steps: 2, totalSteps: 2, stopReason: undefined });
    expect(vit.state(dir)).toBe('complete');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.recipe).toMatchObject({ steps: 2, batchSize: 16 });
    expect(report.mlp).toBeNull();
    for (const file of ['confusion.svg', 'accuracy.svg'])
      expect(readFileSync(join(dir, file), 'utf8')).toContain('<svg');
  });

  it("rag: builds the benchmark, trains the encoders and writes rag eval's figures; lost figures are measured again from the kept models", async () => {
    const out = tempDir();
    const dir = join(out, 'rag');
    const rag = stage('rag');
    expect(rag.state(dir)).toBe('empty');
    // Without --steps the settings' steps: 2 bi-encoder and 1 reranker step.
    expect(await rag.run(context(out, { steps: undefined }), dir, false)).toEqual({
      steps: 3,
      totalSteps: 3,
    });
    expect(rag.state(dir)).toBe('complete');
    const figures = JSON.parse(readFileSync(join(dir, RAG_FIGURES), 'utf8'));
    const models = readRetrievalModels(join(dir, RAG_FOLDERS.models), device);
    const bench = join(dir, RAG_FOLDERS.bench);
    expect((await loadBeir(bench, 'test')).corpus.size).toBe(30);
    // The retrieval rag train chose on dev is recorded with the models, and measured.
    expect(models.manifest.tuned).toMatchObject({ split: 'dev' });
    const want = await evaluateBenchmark(bench, models, { split: 'test' });
    expect(figures).toEqual(want.figures);
    expect(figures.rows.map((m: { method: string }) => m.method)).toEqual([...METHODS]);
    const manifest = readFileSync(join(dir, RAG_FOLDERS.models, MODEL_FILES.manifest), 'utf8');
    rmSync(join(dir, RAG_FIGURES));
    expect(rag.state(dir)).toBe('partial');
    expect(await rag.run(context(out), dir, true)).toEqual({ steps: 3, totalSteps: 3 });
    expect(readFileSync(join(dir, RAG_FOLDERS.models, MODEL_FILES.manifest), 'utf8')).toBe(
      manifest,
    );
    expect(JSON.parse(readFileSync(join(dir, RAG_FIGURES), 'utf8'))).toEqual(figures);
    models.biEncoder.dispose();
    models.crossEncoder.dispose();
  });

  it('rag: a stop signal during encoder training is obeyed once the models are saved', async () => {
    const out = tempDir();
    const dir = join(out, 'rag');
    const r = await stage('rag').run(context(out, { stop: { reason: 'SIGTERM' } }), dir, false);
    expect(r).toEqual({ steps: 4, totalSteps: 4, stopReason: 'SIGTERM' });
    expect(stage('rag').state(dir)).toBe('partial');
  });
});
