import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { describe, expect, it } from 'vitest';
import { ranksOf } from './test-corpus.js';
import { fromTiktoken } from './tiktoken-file.js';

describe('StreamDecoder', () => {
  const tok = fromTiktoken(ranksOf(cl100k), 'cl100k_base');

  it('never emits U+FFFD for characters split across tokens', () => {
    const text = '😀👍🏽 日本語 ok 👨‍👩‍👧‍👦';
    const stream = tok.streamDecoder();
    let out = '';
    for (const id of tok.encode(text)) {
      const piece = stream.push(id);
      expect(piece).not.toContain('\ufffd');
      out += piece;
    }
    expect(out + stream.end()).toBe(text);
    // Some token really is a partial character, or this test would prove nothing.
    expect(tok.encode(text).some((id) => tok.decode([id]).includes('\ufffd'))).toBe(true);
  });
});
