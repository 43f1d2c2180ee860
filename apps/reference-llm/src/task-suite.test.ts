import { arithmeticTask, knowledgeQuizTask, runBenchmark } from '@tessera/eval';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { asLanguageModel } from './language-model.js';
import { loadCheckpoint } from './load.js';
import { builtInTasks, runTaskSuite } from './task-suite.js';
import { microRun } from './test-utils/checkpoints.js';

const { cpu } = await testDevices();
const dir = await microRun(cpu);

describe('the built-in task suite', () => {
  it('is two-digit arithmetic and the knowledge quiz', () => {
    expect(builtInTasks()).toEqual([arithmeticTask(50, 0), knowledgeQuizTask()]);
  });

  it('runTaskSuite is the benchmark runner on those tasks, with its few-shot draw, limit and progress', async () => {
    const { model, tokenizer } = loadCheckpoint(dir, cpu);
    const lm = asLanguageModel(model, tokenizer, dir);
    const progress: string[] = [];
    const report = await runTaskSuite(lm, {
      fewshot: 2,
      limit: 3,
      seed: 5,
      onProgress: (task, done, total) => progress.push(`${task} ${done}/${total}`),
    });
    const direct = await runBenchmark(lm, [arithmeticTask(50, 0), knowledgeQuizTask()], {
      numFewshot: 2,
      limit: 3,
      seed: 5,
    });
    expect(report).toEqual(direct);
    expect(report.results.map((r) => [r.task, r.n, r.numFewshot])).toEqual([
      ['arithmetic', 3, 2],
      ['knowledge-quiz', 3, 2],
    ]);
    expect(progress.at(-1)).toBe('knowledge-quiz 3/3');
  });
});
