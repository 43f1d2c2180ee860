import { describe, expect, it } from 'vitest';
import { NONSPACING_MARK_8, OTHER_8, PUNCTUATION_8 } from './unicode-8.js';

describe('Unicode 8.0 tables (scripts/make-unicode-8.ts)', () => {
  it.each([
    ['OTHER_8', OTHER_8],
    ['NONSPACING_MARK_8', NONSPACING_MARK_8],
    ['PUNCTUATION_8', PUNCTUATION_8],
  ] as const)('%s holds sorted, disjoint, inclusive ranges (what inRanges searches)', (_, r) => {
    expect(r.length % 2).toBe(0);
    for (let i = 0; i < r.length; i += 2) {
      expect(r[i]!).toBeLessThanOrEqual(r[i + 1]!);
      if (i > 0) expect(r[i]!).toBeGreaterThan(r[i - 1]! + 1);
    }
  });

  it('agree with the current Unicode where the category has not changed since 8.0', () => {
    // ASCII and Latin-1 categories are unchanged since Unicode 1.1.
    const expand = (r: readonly number[]) =>
      [...Array(256).keys()].filter((c) => {
        for (let i = 0; i < r.length; i += 2) if (c >= r[i]! && c <= r[i + 1]!) return true;
        return false;
      });
    const now = (re: RegExp) =>
      [...Array(256).keys()].filter((c) => re.test(String.fromCodePoint(c)));
    expect(expand(OTHER_8)).toEqual(now(/^[\p{Cc}\p{Cf}\p{Co}]$/u));
    expect(expand(PUNCTUATION_8)).toEqual(now(/^\p{P}$/u));
    expect(expand(NONSPACING_MARK_8)).toEqual(now(/^\p{Mn}$/u));
  });
});
