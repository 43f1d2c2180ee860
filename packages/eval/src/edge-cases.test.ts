import { corpusBleu, corpusChrf, meteor, rouge, sentenceBleu, tokenizeIntl } from '@tessera/eval';
import { describe, expect, it } from 'vitest';

// Edge cases every text metric must survive: empty sides, Unicode, very long inputs.
describe('text metrics on edge cases', () => {
  it('an empty reference scores 0 without throwing', () => {
    expect(sentenceBleu('a b c d', ['']).score).toBe(0);
    expect(corpusChrf(['abc'], [['']]).score).toBe(0);
    expect(rouge('a b c', '').rougeL!.fmeasure).toBe(0);
    expect(meteor('a b c', '')).toBe(0);
  });

  it('intl tokenisation splits Unicode punctuation and symbols but keeps numbers whole', () => {
    expect(tokenizeIntl('Grüße, 3.5€ «bien»!')).toBe('Grüße , 3.5 € « bien » !');
    expect(sentenceBleu('Grüße, Welt!', ['Grüße, Welt!'], { tokenize: 'intl' }).score).toBeCloseTo(
      100,
      9,
    );
  });

  it('very long identical inputs score 100 (and 1 for ROUGE and nearly 1 for METEOR)', () => {
    const words = Array.from({ length: 5000 }, (_, i) => `w${i % 997}`).join(' ');
    expect(corpusBleu([words], [[words]]).score).toBeCloseTo(100, 9);
    expect(corpusChrf([words], [[words]]).score).toBeCloseTo(100, 9);
    expect(rouge(words, words, ['rouge2', 'rougeL']).rougeL!.fmeasure).toBeCloseTo(1, 12);
    // One chunk of 5000 matches: penalty 0.5 / 5000^3.
    expect(meteor(words, words)).toBeCloseTo(1 - 0.5 / 5000 ** 3, 12);
  });
});
