import { describe, expect, it } from 'vitest';
import { shakespeare } from '../test-utils/fixtures.js';
import { instructionData, preferenceData, questionPool } from './datasets.js';
import { parseChatExample, parsePreferenceExample } from './jsonl.js';
import { finalAnswer } from './tasks.js';

const text = shakespeare(200_000);
const sizes = { train: 300, heldout: 50 };

describe('generated tuning data', () => {
  it('instruction splits: the sizes asked for, valid records, no held-out question in training, deterministic', () => {
    const a = instructionData(1, text, sizes);
    expect([a.train.length, a.heldout.length]).toEqual([300, 50]);
    for (const e of [...a.train, ...a.heldout]) expect(parseChatExample(e)).toEqual(e);
    const question = (e: (typeof a.train)[number]) => e.messages[0]!.content;
    const training = new Set(a.train.map(question));
    expect(a.heldout.filter((e) => training.has(question(e)))).toEqual([]);
    expect(instructionData(1, text, sizes)).toEqual(a);
    expect(instructionData(2, text, sizes).train).not.toEqual(a.train);
  });

  it('preference pairs: the chosen reply is right; the rejected one alternates wrong and badly formatted', () => {
    const { train, heldout } = preferenceData(1, text, sizes);
    expect([train.length, heldout.length]).toEqual([300, 50]);
    train.forEach((p, i) => {
      expect(parsePreferenceExample(p)).toEqual(p);
      const [chosen, rejected] = [
        finalAnswer(p.chosen[0]!.content),
        finalAnswer(p.rejected[0]!.content),
      ];
      expect(chosen).toBeDefined();
      if (i % 2 === 0) expect(rejected === undefined || rejected === chosen).toBe(false);
      else expect(rejected).toBeUndefined();
    });
  });

  it('no preference pair asks a question of the instruction data, either split, any seeds', () => {
    const sft = instructionData(1, text, sizes);
    const questions = new Set([...sft.train, ...sft.heldout].map((e) => e.messages[0]!.content));
    for (const seed of [1, 2]) {
      const pairs = preferenceData(seed, text, sizes);
      const shared = [...pairs.train, ...pairs.heldout].filter((p) =>
        questions.has(p.prompt[0]!.content),
      );
      expect(shared).toEqual([]);
    }
    for (const e of sft.heldout) expect(questionPool(e.messages[0]!.content)).toBe('instruction');
  });
});
