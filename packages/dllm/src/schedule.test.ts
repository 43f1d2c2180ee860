import { transferCounts } from '@tessera/dllm';
import { describe, expect, it } from 'vitest';

describe('transferCounts', () => {
  it("linear is LLaDA's get_num_transfer_tokens: n // S per step, the remainder to the first steps", () => {
    for (const [n, steps] of [
      [10, 4],
      [32, 32],
      [7, 3],
      [3, 8],
      [0, 2],
    ] as const) {
      const counts = transferCounts(n, steps);
      expect(counts).toHaveLength(steps);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(n);
      for (const [i, c] of counts.entries())
        expect(c).toBe(Math.floor(n / steps) + (i < n % steps ? 1 : 0));
    }
  });

  it('cosine leaves ⌊n·cos(π/2 · s/S)⌋ masked after step s and commits the most late', () => {
    const n = 64;
    const steps = 8;
    const counts = transferCounts(n, steps, 'cosine');
    expect(counts.reduce((a, b) => a + b, 0)).toBe(n);
    let left = n;
    counts.forEach((c, i) => {
      left -= c;
      const expected =
        i + 1 === steps ? 0 : Math.floor(n * Math.cos((Math.PI / 2) * ((i + 1) / steps)));
      expect(left).toBe(expected);
    });
    expect(counts.at(-1)!).toBeGreaterThan(counts[0]!);
  });

  it('names bad arguments', () => {
    expect(() => transferCounts(-1, 2)).toThrow(
      'transferCounts: masked must be an integer >= 0, got -1',
    );
    expect(() => transferCounts(4, 0)).toThrow(
      'transferCounts: steps must be an integer >= 1, got 0',
    );
    expect(() => transferCounts(4, 2, 'exp' as never)).toThrow(
      `transferCounts: schedule must be 'linear' or 'cosine', got "exp"`,
    );
  });
});
