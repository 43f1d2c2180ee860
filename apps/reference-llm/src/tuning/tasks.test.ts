import { Rng } from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { shakespeare } from '../test-utils/fixtures.js';
import { exampleStream, finalAnswer, lineWords, makeExample, TASKS, taskLines } from './tasks.js';

const lines = taskLines(shakespeare(200_000));

/** The right answer of a question, computed here from the question alone. */
function solve(task: string, question: string): string {
  const numbers = (question.match(/\d+/g) ?? []).map(Number);
  const words = question.split(': ')[1]?.split(' ') ?? [];
  switch (task) {
    case 'add':
      return String(numbers[0]! + numbers[1]!);
    case 'compare':
      return String(Math.max(...numbers));
    case 'reverse':
      return [...words].reverse().join(' ');
    case 'sort':
      return [...words].sort().join(' ');
    default: {
      const [line, ask] = question.split('\n') as [string, string];
      const w = lineWords(line);
      return ask.includes('first') ? w[0]! : w.at(-1)!;
    }
  }
}

describe('tasks', () => {
  it('every reply ends with the right answer; the wrong one with another; the badly formatted one has no Answer line', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 200; i++) {
      const e = makeExample(TASKS[i % TASKS.length]!, rng, lines);
      const right = solve(e.task, e.question);
      expect(finalAnswer(e.reply), e.question).toBe(right);
      const wrong = finalAnswer(e.wrong);
      expect(wrong).toBeDefined();
      expect(wrong).not.toBe(right);
      expect(finalAnswer(e.badlyFormatted)).toBeUndefined();
      expect(e.badlyFormatted).not.toBe(e.reply);
    }
  });

  it('finalAnswer reads the last "Answer:" line only', () => {
    expect(finalAnswer('12 + 30 = 42\nAnswer: 42')).toBe('42');
    expect(finalAnswer('Answer: a b c\n')).toBe('a b c');
    expect(finalAnswer('the answer is 42')).toBeUndefined();
    expect(finalAnswer('Answer: 42\nand more')).toBeUndefined();
    // Numbers in one form, as the GRPO reward reads them.
    for (const written of ['+9', '9.', '9', ' 9 '])
      expect(finalAnswer(`Answer: ${written}`)).toBe('9');
    expect(finalAnswer('Answer: −3')).toBe('-3');
  });

  it('line questions use short lines of the text, punctuation around words removed', () => {
    expect(lineWords("'Tis the senate-house, my lord!")).toEqual([
      'Tis',
      'the',
      'senate-house',
      'my',
      'lord',
    ]);
    expect(lines.length).toBeGreaterThan(500);
    for (const line of lines.slice(0, 100)) {
      expect(line.length).toBeLessThanOrEqual(30);
      expect(lineWords(line).length).toBeGreaterThanOrEqual(3);
      expect(line.endsWith(':')).toBe(false);
    }
  });

  it('the stream is deterministic per seed, cycles through the tasks and never repeats a question', () => {
    const take = (seed: number) => {
      const s = exampleStream(seed, lines);
      return Array.from({ length: 500 }, () => s.next().value!);
    };
    const a = take(5);
    expect(take(5)).toEqual(a);
    expect(take(6)).not.toEqual(a);
    expect(a.slice(0, 5).map((e) => e.task)).toEqual([...TASKS]);
    expect(new Set(a.map((e) => e.question)).size).toBe(500);
  });
});
