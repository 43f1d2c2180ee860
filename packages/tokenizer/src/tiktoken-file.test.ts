import { describe, expect, it } from 'vitest';
import { formatTiktokenRanks, fromTiktoken, parseTiktokenRanks } from './tiktoken-file.js';

describe('tiktoken files', () => {
  it('rank files round-trip, and a malformed line names its number', () => {
    const ranks = new Map([
      ['a', 0],
      ['b', 1],
      ['ab', 2],
      ['\u00ff\u0000', 3],
    ]);
    expect(parseTiktokenRanks(formatTiktokenRanks(ranks))).toEqual(ranks);
    expect(() => parseTiktokenRanks('YQ== 0\nbad\n')).toThrow(/line 2 is not "<base64> <rank>"/);
    expect(() => fromTiktoken(ranks, 'nope' as never)).toThrow(/unknown encoding "nope"/);
  });

  it('refuses unknown keys in an explicit encoding', () => {
    expect(() => fromTiktoken(new Map([['a', 0]]), { pattern: 'a', special: {} } as never)).toThrow(
      'fromTiktoken: unknown option "special" (known options: pattern, specialTokens, name)',
    );
  });
});
