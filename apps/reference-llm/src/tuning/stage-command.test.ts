import { Command } from '@commander-js/extra-typings';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runStageCommand, stageOptions } from './stage-command.js';

describe('stage commands', () => {
  afterEach(() => {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  it('every stage takes the run-folder, time, checkpoint, seed and backend options', () => {
    const parse = (...args: string[]) =>
      stageOptions(new Command('x').exitOverride(), 'runs/x').parse(args, { from: 'user' }).opts();
    expect(parse()).toEqual({ out: 'runs/x', backend: 'auto' });
    expect(
      parse(
        '--resume',
        '--max-minutes',
        '1.5',
        '--save-every',
        '3',
        '--steps',
        '9',
        '--lr',
        '1e-3',
        '--seed',
        '2',
      ),
    ).toEqual({
      out: 'runs/x',
      resume: true,
      maxMinutes: 1.5,
      saveEvery: 3,
      steps: 9,
      lr: 1e-3,
      seed: 2,
      backend: 'auto',
    });
    expect(() => parse('--resume', '--force')).toThrow(/cannot be used with option '--force'/);
    expect(() => parse('--steps', '0')).toThrow(/Expected an integer >= 1/);
  });

  it('prints the result and exits 130 or 143 when a signal stopped the run', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await runStageCommand(
      'cpu',
      async () => ({ loop: {} }),
      () => 'done',
    );
    expect(log).toHaveBeenLastCalledWith('done');
    expect(process.exitCode).toBeUndefined();
    await runStageCommand(
      'cpu',
      async () => ({ loop: { stopReason: 'SIGTERM' } }),
      () => 'stopped',
    );
    expect(process.exitCode).toBe(143);
  });
});
