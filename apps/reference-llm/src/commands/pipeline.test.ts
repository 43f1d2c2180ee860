import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../run-folder.js';
import { runCommand } from '../test-utils/commands.js';
import { data, tempDir } from '../test-utils/fixtures.js';
import { pipelineCommand } from './pipeline.js';

describe('reference-llm pipeline', () => {
  it('runs the chosen stages into --out and says where they are', async () => {
    const out = tempDir();
    const args = ['--stages', 'pretrain', '--steps', '2', '--data', data, '--out', out];
    const printed = await runCommand(pipelineCommand, args);
    expect(printed).toBe(`pipeline done: stages in ${out}\n`);
    expect(readCheckpoint(join(out, 'pretrain')).state.step).toBe(2);
    expect(existsSync(join(out, 'pipeline.json'))).toBe(true);
  });

  it('refuses a stage it does not know, naming the flag and the stages it has', async () => {
    await expect(
      runCommand(pipelineCommand, ['--stages', 'pretrain, grpo', '--out', tempDir()]),
    ).rejects.toThrow(
      '--stages: unknown stage "grpo"; expected a comma-separated list of pretrain, sft, reward, dpo, ppo, eval',
    );
  });
});
