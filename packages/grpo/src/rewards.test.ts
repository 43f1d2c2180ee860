import {
  extractAnswer,
  formatReward,
  lengthPenalty,
  numericAnswerReward,
  parseNumber,
  scoreCompletions,
} from '@tessera/grpo';
import { describe, expect, it } from 'vitest';

describe('parseNumber', () => {
  it.each([
    ['42', 42],
    ['  -7 ', -7],
    ['+3.5', 3.5],
    ['- 12', -12],
    ['\u22125', -5],
    ['1,234', 1234],
    ['1,234,567.25', 1234567.25],
    ['12 345', 12345],
    ['1\u2009000', 1000],
    ['1_000_000', 1000000],
    ['42.', 42],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['2.5e3', 2500],
    ['-0', -0],
  ])('reads %j as %d', (text, value) => {
    expect(parseNumber(text)).toBe(value);
  });

  it.each([
    '',
    'forty-two',
    '1,23',
    '1,2345',
    '12,34,567',
    '1,234 567',
    '$5',
    '1/2',
    '3 apples',
    '\\boxed{4}',
    '4..',
    '--4',
  ])('rejects %j', (text) => {
    expect(parseNumber(text)).toBeUndefined();
  });
});

describe('extractAnswer and numericAnswerReward', () => {
  it('reads the last <answer> block', () => {
    expect(extractAnswer('<answer>1</answer> then <answer> 2 </answer>')).toBe('2');
    expect(extractAnswer('no tags')).toBeUndefined();
  });

  it('rewards 1 for the right number however it is written, else 0', () => {
    const example = { answer: '1234' };
    expect(numericAnswerReward('<think>…</think><answer> 1,234. </answer>', example)).toBe(1);
    expect(numericAnswerReward('<answer>1234.0</answer>', { answer: 1234 })).toBe(1);
    expect(numericAnswerReward('<answer>−7</answer>', { answer: '-7' })).toBe(1);
    expect(numericAnswerReward('<answer>1235</answer>', example)).toBe(0);
    expect(numericAnswerReward('1234', example)).toBe(0);
    expect(numericAnswerReward('<answer>about 1234</answer>', example)).toBe(0);
  });

  it('rejects an example whose answer is not a number', () => {
    expect(() => numericAnswerReward('<answer>1</answer>', { answer: 'one' })).toThrow(
      /numericAnswerReward: example.answer must be a number or a numeric string, got "one"/,
    );
  });
});

describe('formatReward', () => {
  it.each([
    ['<think>reason</think><answer>4</answer>', 1],
    ['  <think>\nreason\n</think>\n<answer>4</answer>\n', 1],
    ['<think>reason</think>', 0],
    ['<answer>4</answer>', 0],
    ['<think>a</think><answer>4</answer> and more', 0],
    ['<think>a<think>b</think><answer>4</answer>', 0],
    ['<think>a</think><answer>4</answer><answer>5</answer>', 0],
    ['Sure! <think>a</think><answer>4</answer>', 0],
  ])('%j → %d', (completion, reward) => {
    expect(formatReward(completion)).toBe(reward);
  });
});

describe('lengthPenalty and scoreCompletions', () => {
  it('penalises long completions in the buffer, by characters or a given measure', () => {
    const penalty = lengthPenalty({ maxLength: 10, bufferLength: 4 });
    expect(penalty('123456', undefined)).toBe(0);
    expect(penalty('12345678', undefined)).toBeCloseTo(-0.5, 12);
    const words = lengthPenalty({
      maxLength: 4,
      bufferLength: 2,
      measure: (s) => s.split(' ').length,
    });
    expect(words('a b c', undefined)).toBeCloseTo(-0.5, 12);
    expect(() => lengthPenalty({ maxLength: 4, bufferLength: 5 })).toThrow(/bufferLength must be/);
  });

  it('sums the reward functions with weights and keeps each for logging', () => {
    const completions = ['<think>x</think><answer>3</answer>', '<answer>4</answer>'];
    const examples = [{ answer: 3 }, { answer: 3 }];
    const { rewards, perFunction } = scoreCompletions(
      completions,
      examples,
      [numericAnswerReward, formatReward],
      [1, 0.5],
    );
    expect(Array.from(rewards)).toEqual([1.5, 0]);
    expect(perFunction.map((r) => Array.from(r))).toEqual([
      [1, 0],
      [1, 0],
    ]);
  });

  it('names a reward function that returns a non-number', () => {
    const broken = () => Number.NaN;
    expect(() => scoreCompletions(['a'], [{}], [broken])).toThrow(
      /scoreCompletions: reward function 0 \(broken\) on completion 0 must be a finite number, got number NaN/,
    );
    expect(() => scoreCompletions(['a', 'b'], [{}], [broken])).toThrow(
      /1 examples for 2 completions/,
    );
  });
});
