import { describe, expect, it } from 'vitest';
import { formatSeconds, Progress, progressBar } from './progress.js';

describe('progress', () => {
  it('draws a fixed-width bar', () => {
    expect(progressBar(0, 4)).toBe('[░░░░]   0%');
    expect(progressBar(0.5, 4)).toBe('[██░░]  50%');
    expect(progressBar(0.999, 4)).toBe('[████]  99%');
    expect(progressBar(1.5, 4)).toBe('[████] 100%');
    expect(formatSeconds(125)).toBe('2m5s');
    expect(formatSeconds(Number.POSITIVE_INFINITY)).toBe('?');
  });

  it('in a log, prints a line at each 10% and at the end, with the note', () => {
    const out: string[] = [];
    const p = new Progress('eval', 100, { write: (t) => out.push(t) });
    for (let i = 1; i <= 100; i++) p.update(i, `loss ${i}`);
    expect(out).toHaveLength(11); // 1 (0%), 10, 20, …, 100
    expect(out.at(-1)).toMatch(/^eval {6}\[█{20}\] 100% 100\/100 {2}loss 100\n$/);
    expect(out[1]).toContain(' 10% 10/100');
  });

  it('on a terminal, redraws one line in place and ends it when done; log lines do not tear it', () => {
    const out: string[] = [];
    const p = new Progress('train', 2, { write: (t) => out.push(t), isTTY: true });
    p.update(1);
    p.log('step 1: val 3.2');
    p.update(2);
    expect(out[0]!.startsWith('\rtrain')).toBe(true);
    expect(out[1]).toBe('\r\x1b[K');
    expect(out[2]).toBe('step 1: val 3.2\n');
    expect(out.at(-1)).toBe('\n');
  });
});
