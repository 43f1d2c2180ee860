import { Command } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import { denoiseFlags, denoiseOptions } from './decode-options.js';

const command = () =>
  new Command('x')
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .addOption(denoiseFlags.steps())
    .addOption(denoiseFlags.threshold())
    .addOption(denoiseFlags.remasking())
    .addOption(denoiseFlags.schedule())
    .addOption(denoiseFlags.temperature())
    .addOption(denoiseFlags.topK())
    .addOption(denoiseFlags.topP())
    .addOption(denoiseFlags.seed());

describe('the denoising flags', () => {
  it('default to greedy low-confidence remasking on the linear schedule, and map to denoise options', () => {
    const c = command().parse([], { from: 'user' });
    expect(denoiseOptions(c.opts())).toEqual({
      steps: undefined,
      threshold: undefined,
      remasking: 'low-confidence',
      schedule: 'linear',
      temperature: 0,
      topK: undefined,
      topP: undefined,
      seed: 0,
    });
    const d = command().parse(
      [
        '--steps',
        '8',
        '--threshold',
        '0.9',
        '--schedule',
        'cosine',
        '--temperature',
        '0.7',
        '--top-k',
        '5',
        '--seed',
        '3',
      ],
      { from: 'user' },
    );
    expect(denoiseOptions(d.opts())).toMatchObject({
      steps: 8,
      threshold: 0.9,
      schedule: 'cosine',
      temperature: 0.7,
      topK: 5,
      seed: 3,
    });
  });

  it('name a bad value', () => {
    expect(() => command().parse(['--threshold', '1.5'], { from: 'user' })).toThrow(
      "option '--threshold <p>' argument '1.5' is invalid. Expected a number > 0 and <= 1.",
    );
    expect(() => command().parse(['--remasking', 'lowest'], { from: 'user' })).toThrow(
      /Allowed choices are low-confidence, random/,
    );
  });
});
