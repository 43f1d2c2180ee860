import { bitsPerByte, bitsPerByteFromMeanNll, meanNll, perplexity } from '@tessera/eval';
import { describe, expect, it } from 'vitest';

describe('perplexity and bits per byte', () => {
  it('match their definitions on hand-computed values', () => {
    const lp = [Math.log(0.5), Math.log(0.25), Math.log(0.125)];
    expect(meanNll(lp)).toBeCloseTo((Math.log(2) + Math.log(4) + Math.log(8)) / 3, 12);
    expect(perplexity(lp)).toBeCloseTo(4, 12); // geometric mean of 2, 4, 8
    expect(bitsPerByte(lp, 'abc')).toBeCloseTo((1 + 2 + 3) / 3, 12);
    expect(bitsPerByte(lp, 'é')).toBeCloseTo(6 / 2, 12); // 'é' is two UTF-8 bytes
    expect(bitsPerByteFromMeanNll(Math.LN2, 10, 5)).toBeCloseTo(2, 12);
  });

  it('a uniform model over V tokens has perplexity V', () => {
    expect(perplexity(new Array(7).fill(-Math.log(50)))).toBeCloseTo(50, 9);
  });

  it('rejects empty input, positive log-probabilities and empty text', () => {
    expect(() => perplexity([])).toThrow(/at least one token/);
    expect(() => perplexity([0.5])).toThrow(/log-probability 0 is 0\.5/);
    expect(() => bitsPerByte([-1], '')).toThrow(/at least one byte, got 0/);
  });
});
