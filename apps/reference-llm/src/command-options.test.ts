import { InvalidArgumentError } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import { integer, nonBlank, numberIn, threadsFromEnv, withDevice } from './command-options.js';

describe('option parsers', () => {
  it('integer(min) takes whole numbers from min up and says what it expected', () => {
    const steps = integer(1);
    expect(steps('30')).toBe(30);
    for (const bad of ['abc', '2.5', '0', '', ' ', '1e400', 'NaN'])
      expect(() => steps(bad), bad).toThrow(new InvalidArgumentError('Expected an integer >= 1.'));
    expect(integer(0)('0')).toBe(0);
  });

  it('numberIn checks open and closed bounds', () => {
    const topP = numberIn({ above: 0, atMost: 1 });
    expect(topP('1')).toBe(1);
    expect(topP('0.9')).toBe(0.9);
    for (const bad of ['0', '2', '-0.1', 'x', 'Infinity'])
      expect(() => topP(bad), bad).toThrow('Expected a number > 0 and <= 1.');
    expect(numberIn({ atLeast: 0 })('0')).toBe(0);
    expect(() => numberIn({ atLeast: 0 })('-1')).toThrow('Expected a number >= 0.');
  });

  it('nonBlank takes text with a non-space character', () => {
    expect(nonBlank(' who? ')).toBe(' who? ');
    for (const bad of ['', ' ', '\n\t'])
      expect(() => nonBlank(bad), JSON.stringify(bad)).toThrow(
        new InvalidArgumentError('Expected text that is not empty or only whitespace.'),
      );
  });

  it('withDevice destroys the device after the work, also when it throws', async () => {
    let destroyed = 0;
    await expect(
      withDevice('cpu', async (d) => {
        const destroy = d.destroy.bind(d);
        d.destroy = () => {
          destroyed++;
          destroy();
        };
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(destroyed).toBe(1);
    expect(await withDevice('cpu', async (d) => d.info.adapter)).toMatch(/cpu/i);
  });

  it('TESSERA_THREADS sets the wasm threads; a bad value is named', async () => {
    expect(threadsFromEnv({})).toBeUndefined();
    expect(threadsFromEnv({ TESSERA_THREADS: '3' })).toBe(3);
    for (const bad of ['0', '1.5', 'two', '-2'])
      expect(() => threadsFromEnv({ TESSERA_THREADS: bad })).toThrow(
        `TESSERA_THREADS="${bad}": expected a whole number >= 1`,
      );
    process.env.TESSERA_THREADS = '1';
    try {
      expect(await withDevice('wasm', async (d) => d.info.adapter)).toMatch(/\(1 thread/);
    } finally {
      delete process.env.TESSERA_THREADS;
    }
  });
});
