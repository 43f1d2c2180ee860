import { Command } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import { defaultBlockLength, denoiseFlags, denoiseOptions } from './decode-options.js';

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

  it('the default block: the whole span when it fits, else the longest divisor of the span within half the window', () => {
    expect(defaultBlockLength(40, 10, 64)).toBe(40);
    expect(defaultBlockLength(70, 4, 64)).toBe(14); // 32 does not divide 70
    expect(defaultBlockLength(128, 4, 64)).toBe(32);
    expect(defaultBlockLength(67, 4, 64)).toBe(1); // a prime span
    for (const length of [65, 70, 96, 100, 127]) {
      const b = defaultBlockLength(length, 8, 64);
      expect(length % b, String(length)).toBe(0);
      expect(b).toBeLessThanOrEqual(32);
    }
  });
});
