import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-utils/fixtures.js';
import { pretrainedMicro } from '../test-utils/tuning.js';

// The command as a user runs it, with a micro pretrained model: it cannot call tools, but every
// step is printed, the loop ends, and the transcript holds the server's tool prompt.
const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
const checkpoint = await pretrainedMicro(await T.createDevice({ backend: 'cpu' }));

function agent(...args: string[]): Promise<{ code: number | null; output: string }> {
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
    expect(r.output).toMatch(
      /the conversation outgrew the model's \d+-token window: up to \d+ of its oldest tokens were cut/,
    );
    expect(r.output).toMatch(/^(answer: |no answer after 2 steps)/m);
    expect(r.output).toContain(`transcript: ${transcript}`);
    const saved = JSON.parse(readFileSync(transcript, 'utf8'));
    expect(saved).toMatchObject({ checkpoint, question: 'What is 2 + 2?' });
    expect(saved.messages[0].content).toContain('"name":"calculator"');
    expect(saved.messages[1]).toEqual({ role: 'user', content: 'What is 2 + 2?' });
    expect(saved.steps.length).toBeGreaterThanOrEqual(1);
  });

  it('names a missing index', async () => {
    const r = await agent('--index', '/nonexistent/index', 'hi');
    expect(r.code).toBe(1);
    expect(r.output).toContain(
      '--index /nonexistent/index: not an index folder written by "rag index"',
    );
  });
});
