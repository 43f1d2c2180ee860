import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../run-folder.js';
import { runCommand } from '../test-utils/commands.js';
import { data, tempDir } from '../test-utils/fixtures.js';
import { pipelineCommand } from './pipeline.js';

const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));

/** The CLI as a real process; `interrupt` sends SIGINT once the output matches it. */
function pipeline(
  args: string[],
  interrupt?: RegExp,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'pipeline', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let sent = false;
  const take = (d: Buffer) => {
    output += d;
    if (interrupt && !sent && interrupt.test(output)) {
      sent = true;
      child.kill('SIGINT');
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('reference-llm pipeline', () => {
  it('runs the chosen stages into --out and says where they are and how to serve the model', async () => {
    const out = tempDir();
    const args = ['--stages', 'pretrain', '--steps', '2', '--data', data, '--out', out];
    const printed = await runCommand(pipelineCommand, args);
    expect(printed).toBe(
      `pipeline done: stages in ${out}\nserve the final model: reference-llm serve --model ${join(out, 'pretrain')}\n`,
    );
    expect(readCheckpoint(join(out, 'pretrain')).state.step).toBe(2);
    expect(existsSync(join(out, 'pipeline.json'))).toBe(true);
  });

  it('Ctrl-C saves the running stage and exits with 130; the same command resumes it', async () => {
    const out = tempDir();
    const args = ['--stages', 'pretrain', '--steps', '20', '--data', data, '--out', out];
    const first = await pipeline(args, /pretrain +\[.*\] +\d+% [1-9]\d*\/20/);
    expect(first.code).toBe(130);
    const [, stoppedAt] = first.output.match(
      /pretrain: stopped \(SIGINT\) at step (\d+) of 20; run the same pipeline command again to resume/,
    )!;
    expect(Number(stoppedAt)).toBeLessThan(20);
    expect(readCheckpoint(join(out, 'pretrain')).state.step).toBe(Number(stoppedAt));
    const again = await pipeline(args);
    expect(again.code).toBe(0);
    expect(again.output).toContain(
      `pretrain: resuming ${join(out, 'pretrain')} from step ${stoppedAt}`,
    );
    expect(again.output).toMatch(/pretrain: done, 20 steps in /);
    expect(readCheckpoint(join(out, 'pretrain')).state.step).toBe(20);
  });

  it('refuses a stage it does not know, naming the flag and the stages it has', async () => {
    await expect(
      runCommand(pipelineCommand, ['--stages', 'pretrain, rlaif', '--out', tempDir()]),
    ).rejects.toThrow(
      '--stages: unknown stage "rlaif"; expected a comma-separated list of pretrain, sft, reward, dpo, ppo, grpo, moe, dllm, vit, rag, eval, serve',
    );
  });

  it('the serve stage ends the run by serving the final model (serve’s code) until Ctrl-C', async () => {
    const out = tempDir();
    const args = ['--stages', 'pretrain,serve', '--steps', '2', '--data', data, '--out', out];
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', cli, 'pipeline', ...args, '--port', '0', '--backend', 'cpu'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const served = new Promise<string>((resolve) => {
      const take = (d: Buffer) => {
        output += d;
        const url = /serving on (http:\/\/\S+) /.exec(output)?.[1];
        if (url) resolve(url);
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const url = await Promise.race([served, exited.then(() => Promise.reject(new Error(output)))]);
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['pretrain']);
    expect(output).toContain(`serve: the final model, ${join(out, 'pretrain')} (Ctrl-C stops)`);
    expect(output).toMatch(new RegExp(`pretrain: ${join(out, 'pretrain')} \\(step 2, `));
    expect(output).not.toContain('serve the final model: reference-llm serve');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
