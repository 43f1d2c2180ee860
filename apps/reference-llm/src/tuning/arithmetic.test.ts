import { Rng } from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import {
  ARITHMETIC_TASK,
  answerReward,
  arithmeticData,
  arithmeticProblem,
  formatReward,
} from './arithmetic.js';

/** The question's expression evaluated left to right, on its own (not by the generator's steps). */
function evaluate(question: string): number {
  const tokens = /^What is (.*)\?$/.exec(question)![1]!.split(' ');
  let value = Number(tokens[0]);
  for (let i = 1; i < tokens.length; i += 2)
    value += (tokens[i] === '-' ? -1 : 1) * Number(tokens[i + 1]);
  return value;
}

describe('arithmetic problems', () => {
  it('two or three one-digit numbers; every worked step is right, never below zero; the answer is the expression’s', () => {
    const rng = new Rng(3);
    const operands = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const p = arithmeticProblem(rng);
      const lines = p.reply.split('\n');
      operands.add(lines.length);
      expect(lines.at(-1)).toBe(`Answer: ${p.answer}`);
      expect(p.answer).toBe(evaluate(p.question));
      for (const line of lines.slice(0, -1)) {
        const [, a, op, b, c] = /^(\d+) ([+-]) (\d) = (\d+)$/.exec(line)!;
        expect(Number(c)).toBe(op === '+' ? Number(a) + Number(b) : Number(a) - Number(b));
      }
    }
    expect([...operands].sort()).toEqual([2, 3]); // one or two steps, then the answer line
  });

  it('splits are seeded, disjoint and tagged; the held-out split does not depend on the training size', () => {
    const a = arithmeticData(1, { train: 300, heldout: 50 });
    expect(arithmeticData(1, { train: 300, heldout: 50 })).toEqual(a);
    expect(arithmeticData(2, { train: 300, heldout: 50 })).not.toEqual(a);
    const question = (e: (typeof a.train)[number]) => e.messages[0]!.content;
    const heldout = new Set(a.heldout.map(question));
    expect(heldout.size).toBe(50);
    expect(a.train.filter((e) => heldout.has(question(e)))).toEqual([]);
    expect(new Set(a.train.map(question)).size).toBe(300);
    expect(arithmeticData(1, { train: 0, heldout: 10 }).heldout).toEqual(a.heldout.slice(0, 10));
    expect(a.train.every((e) => e.task === ARITHMETIC_TASK)).toBe(true);
  });

  it('asking more problems than there are distinct questions is an error', () => {
    expect(() => arithmeticData(1, { train: 5000, heldout: 0 })).toThrow(
      /arithmeticData: 5000 problems asked; only \d+ distinct questions were found/,
    );
  });
});

describe('arithmetic rewards', () => {
  const example = { reference: '7 - 3 = 4\n4 + 5 = 9\nAnswer: 9' };
  it.each([
    ['7 - 3 = 4\n4 + 5 = 9\nAnswer: 9<|im_end|>', 1, 1],
    ['Answer: 9<|im_end|>', 1, 1],
    ['7 - 3 = 4\nAnswer: 9', 1, 0], // right, but never ended
    ['Answer: 09.<|im_end|>', 1, 1], // read as a number
    ['7 - 3 = 4\n4 + 5 = 8\nAnswer: 8<|im_end|>', 0, 1],
    ['Answer: 9 apples<|im_end|>', 0, 1],
    ['Answer: 9<|im_end|>Answer: 8', 1, 0], // text after the end is not the reply
    ['9<|im_end|>', 0, 0],
    ['Answer: 9\nmore<|im_end|>', 0, 0], // the answer line must be the last
  ])('%j: answer %d, format %d', (completion, answer, format) => {
    expect(answerReward(completion, example)).toBe(answer);
    expect(formatReward(completion)).toBe(format);
  });

  it('a reference without a numeric answer is an error naming it', () => {
    expect(() => answerReward('Answer: 9', { reference: 'nine' })).toThrow(
      'answerReward: the reference reply "nine" has no numeric "Answer:" line',
    );
  });
});
