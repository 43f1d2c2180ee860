import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { agentPrompt } from '../agent/react.js';
import { calculatorTool } from '../agent/tools.js';
import { pretrain } from '../pretrain.js';
import { data, tempDir } from '../test-utils/fixtures.js';
import { microChat, pretrainedMicro } from '../test-utils/tuning.js';

// The command as a user runs it, with micro pretrained models: they cannot call tools, but the
// prompt is checked against the window, every step is printed, the loop ends, and the
// transcript holds the agent's prompt.
const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
const device = await T.createDevice({ backend: 'cpu' });
const shortWindow = await pretrainedMicro(device); // 64 tokens: the prompt does not fit
const longWindow = tempDir();
await pretrain({
  preset: { ...microChat, name: 'micro-agent', model: { ...microChat.model, maxSeqLen: 512 } },
  out: longWindow,
  steps: 2,
  data,
  device,
  sink: { write: () => {} },
});

function agent(
  checkpoint: string,
  ...args: string[]
): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'agent', '--checkpoint', checkpoint, '--backend', 'cpu', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('agent, the command', () => {
  it('prints each step and saves the transcript', async () => {
    const transcript = join(tempDir(), 'agent.json');
    const r = await agent(
      longWindow,
      '--max-steps',
      '2',
      '--max-new-tokens',
      '6',
      '--transcript',
      transcript,
      'What is 2 + 2?',
    );
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/^step 1 thought: /m);
    expect(r.output).toMatch(/^(answer: |no answer after 2 steps)/m);
    expect(r.output).toContain(`transcript: ${transcript}`);
    const saved = JSON.parse(readFileSync(transcript, 'utf8'));
    expect(saved).toMatchObject({ checkpoint: longWindow, question: 'What is 2 + 2?' });
    expect(saved.messages[0].content).toBe(agentPrompt([calculatorTool.definition]));
    expect(saved.messages[1]).toEqual({ role: 'user', content: 'What is 2 + 2?' });
    expect(saved.steps[0].window).toMatchObject({ budget: 512 - 6, stepsLeftOut: 0 });
  });

  it("refuses a prompt longer than the model's window before generating, with the counts", async () => {
    const transcript = join(tempDir(), 'agent.json');
    const r = await agent(
      shortWindow,
      '--max-new-tokens',
      '6',
      '--transcript',
      transcript,
      'What is 2 + 2?',
    );
    expect(r.code).toBe(1);
    expect(r.output).toMatch(
      /the agent's instructions and tools take \d+ tokens and the question \d+ more, \d+ in all: over the 58 that the model's 64-token window leaves beside --max-new-tokens 6\. The agent needs a window of at least \d+ tokens: a model of the (small|base) preset/,
    );
    expect(r.output).not.toContain('step 1');
    expect(existsSync(transcript)).toBe(false);
    const noRoom = await agent(shortWindow, 'What is 2 + 2?');
    expect(noRoom.output).toContain(
      "--max-new-tokens 72 leaves no room for a prompt in the model's 64-token window",
    );
  });

  it('names a missing index', async () => {
    const r = await agent(shortWindow, '--index', '/nonexistent/index', 'hi');
    expect(r.code).toBe(1);
    expect(r.output).toContain(
      '--index /nonexistent/index: not an index folder written by "rag index"',
    );
  });
});
