import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { arithmeticTask, knowledgeQuizTask, reportToMarkdown, runBenchmark } from '@tessera/eval';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { asLanguageModel } from '../language-model.js';
import { loadCheckpoint } from '../load.js';
import { FILES } from '../run-folder.js';
import { microRun, overflowingCopy } from '../test-utils/checkpoints.js';
import { runCommand } from '../test-utils/commands.js';
import { tasksCommand } from './tasks.js';

const { cpu } = await testDevices();
const dir = await microRun(cpu);

describe('tasks, the command', () => {
  it('runs the two built-in tasks, prints the Markdown table and writes it as tasks.json', async () => {
    const args = ['--checkpoint', dir, '--limit', '2', '--fewshot', '1', '--backend', 'cpu'];
    const out = await runCommand(tasksCommand, args);
    const saved = JSON.parse(readFileSync(join(dir, FILES.tasks), 'utf8'));
    expect(out).toBe(`${reportToMarkdown(saved)}\n`);
    expect(saved.results.map((r: { n: number }) => r.n)).toEqual([2, 2]);
    // The same benchmark run directly gives the same scores.
    const { model, tokenizer } = loadCheckpoint(dir, cpu);
    const direct = await runBenchmark(
      asLanguageModel(model, tokenizer, dir),
      [arithmeticTask(50, 0), knowledgeQuizTask()],
      { numFewshot: 1, limit: 2, seed: 1 },
    );
    expect(saved.results.map((r: { metrics: unknown }) => r.metrics)).toEqual(
      direct.results.map((r) => r.metrics),
    );
  });

  it('refuses a checkpoint whose logits are not finite instead of scoring 0, and writes nothing', async () => {
    const overflowing = await overflowingCopy(dir);
    rmSync(join(overflowing, FILES.tasks), { force: true }); // the copy's, from the test above
    await expect(
      runCommand(tasksCommand, ['--checkpoint', overflowing, '--limit', '1', '--backend', 'cpu']),
    ).rejects.toThrow(
      `${overflowing}: the model produced non-finite logits (the checkpoint's weights overflow?)`,
    );
    expect(existsSync(join(overflowing, FILES.tasks))).toBe(false);
  });
});
