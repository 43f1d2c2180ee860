import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { shakespeare, tempDir, textFile } from '../test-utils/fixtures.js';

// The dllm commands as a user runs them: a real process (the TypeScript source through tsx).
const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, 'dllm', ...args], {
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('reference-llm dllm', () => {
  it('train, then generate in fewer forward passes than tokens, fill a gap between two texts, run the tasks', () => {
    const dir = tempDir();
    const data = textFile(shakespeare(80_000));
    const train = run('train', '--preset', 'tiny', '--steps', '2', '--data', data, '--out', dir);
    expect(train.stderr).toContain('<|mdm_mask|>');
    expect(train.stdout).toMatch(/^done: validation [\d.]+ nats\/token, ≤ [\d.]+ bits\/byte/);
    expect(train.status).toBe(0);

    const gen = run(
      'generate',
      '--checkpoint',
      dir,
      '--prompt',
      'ROMEO:',
      '--length',
      '16',
      '--steps',
      '4',
    );
    expect(gen.status).toBe(0);
    expect(gen.stdout.startsWith('ROMEO:')).toBe(true);
    expect(gen.stderr).toMatch(/16 tokens in 4 forward passes \(0\.250 per token, blocks of 16\)/);

    const long = run(
      'generate',
      '--checkpoint',
      dir,
      '--length',
      '96',
      '--steps',
      '24',
      '--show-steps',
    );
    expect(long.status).toBe(0);
    expect(long.stderr).toMatch(
      /96 tokens in 24 forward passes \(0\.250 per token, blocks of 32\)/,
    );
    expect(long.stderr).toContain('░');

    const fill = run(
      'infill',
      '--checkpoint',
      dir,
      '--prefix',
      'To be, or ',
      '--suffix',
      ' to be',
      '--length',
      '3',
    );
    expect(fill.status).toBe(0);
    expect(fill.stdout.startsWith('To be, or ')).toBe(true);
    expect(fill.stdout.trimEnd().endsWith(' to be')).toBe(true);
    expect(fill.stderr).toMatch(/the gap: ".*" \(3 tokens, 3 forward passes\)/);

    const tasks = run(
      'tasks',
      '--checkpoint',
      dir,
      '--limit',
      '2',
      '--samples',
      '2',
      '--tokens-per-step',
      '4',
    );
    expect(tasks.status).toBe(0);
    expect(tasks.stdout).toMatch(/arithmetic/);
    expect(tasks.stdout).toMatch(/knowledge/);
    const report = JSON.parse(readFileSync(join(dir, 'tasks.json'), 'utf8'));
    expect(report.results.map((r: { n: number }) => r.n)).toEqual([2, 2]);

    const bad = run('generate', '--checkpoint', dir, '--length', '10', '--block', '4');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(
      'denoise: blockLength must be an integer in 1..10 that divides the length 10, got 4',
    );
  });
});
