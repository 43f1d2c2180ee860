import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import type { StageAnswer } from '../pipeline/evaluation.js';
import { runPipeline } from '../pipeline/run.js';
import { readCheckpoint } from '../run-folder.js';
import { loadServedModel } from '../serve/models.js';
import { runCommand } from '../test-utils/commands.js';
import { data, lines, tempDir } from '../test-utils/fixtures.js';
import { stubJudge } from '../test-utils/judge-endpoint.js';
import { listen, testEngine } from '../test-utils/serve.js';
import { microRecipe } from '../test-utils/tuning.js';
import { pipelineCommand } from './pipeline.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

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

  it('--judge-url: the report names the judge and holds its verdicts with rationales in both orders; the caveat only for a judge the pipeline trained', async () => {
    // The tiny preset's pretraining and SFT, two steps each, measured with the micro recipe's
    // few held-out questions: the rows and replies are kept in OUT/eval/, so the command's eval
    // stage below only judges.
    const out = tempDir();
    await runPipeline({
      out,
      preset: 'tiny',
      recipe: microRecipe,
      data,
      steps: 2,
      stages: ['pretrain', 'sft', 'eval'],
      device,
      sink: lines(),
    });
    const replies = (stage: string): StageAnswer[] =>
      JSON.parse(readFileSync(join(out, 'eval', `${stage}.json`), 'utf8')).answers;
    const [pretrain, sft] = [replies('pretrain'), replies('sft')];
    expect(pretrain.length).toBeGreaterThan(0);
    const args = [
      '--stages',
      'eval',
      '--steps',
      '2',
      '--out',
      out,
      '--backend',
      'cpu',
      '--judge-url',
    ];
    const report = () => ({
      json: JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).judge,
      md: readFileSync(join(out, 'report.md'), 'utf8'),
      html: readFileSync(join(out, 'report.html'), 'utf8'),
    });

    // An independent judge: the stub endpoint (it prefers the longer answer, reasoning first).
    const stub = await stubJudge();
    try {
      const printed = await runCommand(pipelineCommand, [...args, stub.url]);
      expect(printed).toContain(`pipeline done: report in ${out}/report.html`);
      // Each question in both orders: pretrain's reply first, then SFT's first.
      const shown = (q: string, first: string, second: string) =>
        `Question: ${q}\n\nAnswer 1: ${first}\n\nAnswer 2: ${second}`;
      expect(stub.asked.map((q) => q.slice(q.indexOf('Question: ')))).toEqual(
        pretrain.flatMap((a, i) => [
          shown(a.question, a.reply, sft[i]!.reply),
          shown(a.question, sft[i]!.reply, a.reply),
        ]),
      );
      const verdict = (first: string, second: string) =>
        `The longer answer shows more work.\nWINNER: ${first.length === second.length ? 'TIE' : first.length > second.length ? '1' : '2'}`;
      const verdicts = pretrain.map((a, i) => ({
        question: a.question,
        stageFirst: verdict(a.reply, sft[i]!.reply),
        againstFirst: verdict(sft[i]!.reply, a.reply),
      }));
      const { json, md, html } = report();
      expect(json.judge).toEqual({ url: stub.url, model: 'stub' });
      expect(json.caveat).toBeUndefined();
      expect(json.comparisons).toHaveLength(1);
      expect(json.comparisons[0]).toMatchObject({ stage: 'pretrain', against: 'sft', verdicts });
      expect(json.comparisons[0].report.winners).toHaveLength(pretrain.length);
      expect(md).toContain(`## LLM judge: stub at ${stub.url}\n\nEach question is judged`);
      expect(md).toMatch(/^- pretrain vs sft: pretrain wins \d+, sft wins \d+, ties \d+/m);
      const quote = (t: string) => `\`${t.replaceAll('\n', ' ↵ ')}\``;
      expect(md).toContain(
        `  - ${verdicts[0]!.question.replaceAll('\n', ' ')}\n    - pretrain first: ${quote(verdicts[0]!.stageFirst)}\n    - sft first: ${quote(verdicts[0]!.againstFirst)}`,
      );
      expect(md).not.toContain('Caveat');
      expect(html).toContain(`LLM judge: stub at ${stub.url}`);
      expect(html).not.toContain('class="caveat"');
    } finally {
      await stub.close();
    }

    // The project's own server serving the pipeline's SFT checkpoint, under another name.
    const served = await loadServedModel({ name: 'judge', dir: join(out, 'sft') }, cpu, testEngine);
    const server = await listen([served]);
    try {
      await runCommand(pipelineCommand, [...args, server.url]);
      const { json, md, html } = report();
      const caveat = `self-enhancement: the judge "judge" is this pipeline's sft model (${join(out, 'sft')}); a judge tends to favour answers like its own, so its verdicts may favour the stages whose answers resemble its own; prefer an independent judge`;
      expect(json.judge).toEqual({ url: server.url, model: 'judge' });
      expect(json.caveat).toBe(caveat);
      expect(md).toContain(`## LLM judge: judge at ${server.url}\n\n**Caveat** — ${caveat}.`);
      expect(html).toContain('<p class="caveat"><b>Caveat</b> — self-enhancement: the judge');
      // The judge prompt does not fit the tiny model's 64-token window: the server refuses it, and
      // the comparison holds that error in a report that is written all the same.
      expect(json.comparisons[0].report.error).toMatch(
        new RegExp(
          `^--judge-url: ${server.url}/v1/chat/completions answered 400: .*maximum context length is 64 tokens`,
        ),
      );
    } finally {
      await server.close();
    }
  });
});
