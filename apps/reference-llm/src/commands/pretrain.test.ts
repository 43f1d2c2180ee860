import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../run-folder.js';
import { shakespeare, tempDir, textFile } from '../test-utils/fixtures.js';

// The command as a user runs it: a real process (the TypeScript source through tsx), the tiny
// preset on the default backend, killed or signalled from outside.
const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
const text = textFile(shakespeare(100_000));
const cpu = await T.createDevice({ backend: 'cpu' });

function start(args: string[]): {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | string>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exit = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'none')),
  );
  return { child, output: () => output, exit };
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Largest |a − b| over every tensor of two safetensors files with the same tensors. */
async function maxDifference(a: Uint8Array, b: Uint8Array): Promise<number> {
  const [x, y] = [a, b].map((bytes) => T.loadSafetensors(new Uint8Array(bytes), { device: cpu }));
  let worst = 0;
  for (const name of Object.keys(x!)) {
    const [u, v] = [await x![name]!.data(), await y![name]!.data()];
    for (let i = 0; i < u.length; i++) worst = Math.max(worst, Math.abs(u[i]! - v[i]!));
  }
  return worst;
}

const pretrain = (out: string, ...more: string[]) =>
  start([
    'pretrain',
    '--preset',
    'tiny',
    '--data',
    text,
    '--out',
    out,
    '--steps',
    '8',
    '--save-every',
    '2',
    ...more,
  ]);
const stepOf = (dir: string) =>
  existsSync(join(dir, 'run.json')) ? readCheckpoint(dir).state.step : 0;

describe('pretrain, the command', () => {
  it('SIGTERM stops after the current step, saves it and exits with 143', async () => {
    const dir = tempDir();
    const run = start([
      'pretrain',
      '--preset',
      'tiny',
      '--data',
      text,
      '--out',
      dir,
      '--steps',
      '500',
    ]);
    await until('the first step', () => /pretrain +\[/.test(run.output()));
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(143);
    const steps = Number(/stopped \(SIGTERM\) after (\d+) of 500 steps/.exec(run.output())?.[1]);
    expect(steps).toBeGreaterThan(0);
    expect(stepOf(dir)).toBe(steps);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('stopped by SIGTERM');
  });

  it('a run killed with SIGKILL resumes from its last checkpoint to the same losses and weights', async () => {
    const straight = tempDir();
    expect(await pretrain(straight).exit).toBe(0);
    const dir = tempDir();
    const killed = pretrain(dir);
    await until('the step-4 checkpoint', () => stepOf(dir) >= 4);
    killed.child.kill('SIGKILL');
    expect(await killed.exit).toBe('SIGKILL');
    const at = stepOf(dir);
    expect(at === 4 || at === 6).toBe(true);
    const refused = pretrain(dir);
    expect(await refused.exit).toBe(1);
    expect(refused.output()).toContain('pass --resume to continue it or --force');
    const resumed = start(['pretrain', '--out', dir, '--resume', '--save-every', '2']);
    expect(await resumed.exit).toBe(0);
    expect(resumed.output()).toContain(`resumed ${dir} at step ${at}/8`);
    const [a, b] = [readCheckpoint(straight), readCheckpoint(dir)];
    expect(b.state.step).toBe(8);
    // Two uninterrupted runs already differ in the last bits (reductions on lavapipe's threads
    // are not ordered), so "the same" is to float rounding.
    for (const file of ['model.safetensors', 'optimizer.safetensors'])
      expect(await maxDifference(a.read(file), b.read(file)), file).toBeLessThan(1e-6);
    type History = { trainLoss: number[]; val: { loss: number }[] };
    const [ha, hb] = [a.state, b.state].map((s) => (s as unknown as { history: History }).history);
    for (let i = 0; i < 8; i++) expect(hb!.trainLoss[i]).toBeCloseTo(ha!.trainLoss[i]!, 5);
    expect(hb!.val.at(-1)!.loss).toBeCloseTo(ha!.val.at(-1)!.loss, 5);
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['step-000008']);
  });
});
