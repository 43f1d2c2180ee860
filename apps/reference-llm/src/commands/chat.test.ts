import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-utils/fixtures.js';
import { microRecipe, pretrainedMicro } from '../test-utils/tuning.js';
import { sft } from '../tuning/sft.js';

// The command as a user runs it: a real process reading the conversation from standard input.
const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const chatModel = tempDir();
await sft({
  from: await pretrainedMicro(device),
  out: chatModel,
  recipe: microRecipe,
  device,
  sink: { write: () => {} },
  steps: 4,
});

function chat(input: string, ...args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'chat', '--checkpoint', chatModel, ...args],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('chat, the command', () => {
  it('answers each line, starts over on /reset and stops at /exit', async () => {
    const r = await chat(
      'What is 1 + 2?\n/reset\nReverse the words: a b\n/exit\nnever read\n',
      '--temperature',
      '0',
      '--max-new-tokens',
      '6',
    );
    expect(r.code).toBe(0);
    expect(r.output.match(/model> /g)).toHaveLength(2);
    expect(r.output).toContain('(new conversation)');
    expect(r.output).not.toContain('never read');
  });

  it('refuses a model that is not a chat model, naming the file', async () => {
    const r = await chat('hi\n', '--checkpoint', await pretrainedMicro(device));
    expect(r.code).toBe(1);
    expect(r.output).toMatch(
      /tokenizer\.json: the tokenizer has no <\|im_start\|> \/ <\|im_end\|> tokens/,
    );
  });
});
