import { describe, expect, it } from 'vitest';
import { mapLimit } from './map-limit.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapLimit', () => {
  it('keeps at most `limit` calls pending and returns results in the items order', async () => {
    let pending = 0;
    let most = 0;
    const out = await mapLimit('test', [30, 5, 20, 1, 10], 2, async (ms, i) => {
      pending++;
      most = Math.max(most, pending);
      await tick(ms);
      pending--;
      return `${i}:${ms}`;
    });
    expect(out).toEqual(['0:30', '1:5', '2:20', '3:1', '4:10']);
    expect(most).toBe(2);
  });

  it('rejects with the first failure and starts no call after it', async () => {
    const started: number[] = [];
    await expect(
      mapLimit('test', [0, 1, 2, 3], 1, async (x) => {
        started.push(x);
        if (x === 1) throw new Error('boom');
        return x;
      }),
    ).rejects.toThrow('boom');
    expect(started).toEqual([0, 1]);
  });

  it('refuses a limit below one, naming it', async () => {
    await expect(mapLimit('test', [1], 0, async (x) => x)).rejects.toThrow(
      'test: concurrency must be an integer >= 1, got 0',
    );
  });
});
