import { overlongPenalty } from '@tessera/grpo';
import { describe, expect, it } from 'vitest';
import { fx } from './test-utils/fixture.js';

describe('overlongPenalty', () => {
  it("matches TRL's soft overlong punishment (DAPO eq. 13) around the buffer", () => {
    const { maxLength, bufferLength, lengths, rewards } = fx.overlong;
    lengths.forEach((length: number, i: number) => {
      expect(overlongPenalty(length, { maxLength, bufferLength })).toBeCloseTo(rewards[i], 12);
    });
  });

  it('with no buffer, it is a step from 0 to −1 past the limit', () => {
    expect(overlongPenalty(10, { maxLength: 10, bufferLength: 0 })).toBe(0);
    expect(overlongPenalty(11, { maxLength: 10, bufferLength: 0 })).toBe(-1);
  });

  it('rejects a buffer longer than the limit and unknown options', () => {
    expect(() => overlongPenalty(5, { maxLength: 10, bufferLength: 20 })).toThrow(
      /overlongPenalty: bufferLength must be a finite number >= 0 and <= 10, got number 20/,
    );
    // @ts-expect-error: TRL's name, not ours
    expect(() => overlongPenalty(5, { maxLength: 10, soft_punish_cache: 2 })).toThrow(
      /unknown option "soft_punish_cache"/,
    );
  });
});
