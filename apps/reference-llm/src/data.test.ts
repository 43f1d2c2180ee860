import { describe, expect, it } from 'vitest';
import { checkSplitSize, splitText } from './data.js';

describe('splitText', () => {
  it('cuts at the line break nearest 90% when one is within 1% of the text', () => {
    const text = `${'a'.repeat(895)}\n${'b'.repeat(104)}`; // break at 895, 90% is 900
    const { train, val } = splitText(text);
    expect(train).toBe(`${'a'.repeat(895)}\n`);
    expect(val).toBe('b'.repeat(104));
  });

  it('cuts at 90% itself when no line break is near (the training split used to be empty)', () => {
    const text = `${'x'.repeat(500)}\n${'y'.repeat(499)}`; // the only break is 40% from the point
    const { train, val } = splitText(text);
    expect(train.length).toBe(900);
    expect(train + val).toBe(text);
    const noBreak = 'z'.repeat(1000);
    expect(splitText(noBreak).train.length).toBe(900);
  });

  it('never splits a surrogate pair', () => {
    const text = '😀'.repeat(10); // 20 UTF-16 units; 90% is unit 18, the start of a pair
    const odd = `a${text}`; // 21 units; 90% is unit 18, inside a pair
    for (const t of [text, odd]) {
      const { train, val } = splitText(t);
      expect(train + val).toBe(t);
      expect(train.endsWith('\ud83d')).toBe(false);
    }
  });

  it('short and empty texts split without throwing; the size check refuses them with the numbers', () => {
    expect(splitText('')).toEqual({ train: '', val: '' });
    const five = splitText('abcde');
    expect(five.train + five.val).toBe('abcde');
    expect(() => checkSplitSize('--data f.txt', 'training', { bytes: 4 }, 64)).toThrow(
      '--data f.txt: the training split has 4 bytes, fewer than the 65 tokens of one batch window (64 inputs + 1 target); use a longer text',
    );
    expect(() =>
      checkSplitSize('--data f.txt', 'validation', { bytes: 300, tokens: 40 }, 64),
    ).toThrow('the validation split has 40 tokens (300 bytes); it needs the 65 tokens');
    expect(() => checkSplitSize('x', 'training', { bytes: 65, tokens: 65 }, 64)).not.toThrow();
  });
});
