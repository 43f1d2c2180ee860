import {
  type ChatMessage,
  type ChatModel,
  comparePairwise,
  type JudgeInput,
  judge,
  judgeMessages,
  type PairwiseOptions,
  parseVerdict,
  VerdictParseError,
} from '@tessera/eval';
import type { ChatMessage as TokenizerChatMessage } from '@tessera/tokenizer';
import { describe, expect, expectTypeOf, it } from 'vitest';

/** A scripted judge: replies with whatever `reply` returns for the last user message. */
const scripted = (id: string, reply: (user: string) => string) => ({
  id,
  calls: [] as ChatMessage[][],
  chat(messages: ChatMessage[]) {
    this.calls.push(messages);
    return reply(messages.at(-1)!.content);
  },
});

describe('LLM-as-a-judge', () => {
  // A type-level test: `npm run typecheck` fails if eval's copy drifts from the owner's shape.
  it("ChatMessage is exactly @tessera/tokenizer's ChatMessage", async () => {
    expectTypeOf<ChatMessage>().toEqualTypeOf<TokenizerChatMessage>();
    // A chat model written against the tokenizer's type is a judge as it is.
    const model = {
      id: 'j',
      chat: (messages: TokenizerChatMessage[]) =>
        `${messages.map((m) => m.role).join(',')}\nVERDICT: PASS`,
    };
    const r = await judge(model, { question: 'q', answer: 'a', criteria: 'c' });
    expect(r.rationale).toBe('system,user');
  });

  it('asks for the rationale before the verdict and parses pass/fail and 1-5 verdicts', async () => {
    const messages = judgeMessages({ question: 'q', answer: 'a', criteria: 'c' });
    expect(messages[0]!.content).toMatch(/First explain your reasoning.*then give/);
    expect(messages[1]!.content).toContain('Criteria: c');
    const pass = await judge(
      scripted('j', () => 'It is correct.\nVERDICT: PASS'),
      { question: 'q', answer: 'a', criteria: 'c' },
    );
    expect(pass).toEqual({ verdict: true, rationale: 'It is correct.', warnings: [] });
    expect(parseVerdict('meh\n**Verdict:** fail', 'pass-fail').verdict).toBe(false);
    expect(parseVerdict('SCORE: 2\nOn reflection...\nScore: 4', '1-5').verdict).toBe(4);
  });

  it('fails clearly on unparseable or out-of-range output', () => {
    expect(() => parseVerdict('I think it is fine.')).toThrow(VerdictParseError);
    expect(() => parseVerdict('I think it is fine.')).toThrow(
      /expected a final line "VERDICT: PASS or VERDICT: FAIL", got "I think it is fine."/,
    );
    expect(() => parseVerdict('SCORE: 7', '1-5')).toThrow(/SCORE: <1-5>/);
  });

  it('rejects unknown keys in the judge input and the pairwise options', async () => {
    const model = scripted('j', () => 'VERDICT: PASS');
    const input = { question: 'q', answer: 'a', criteria: 'c', candidateModelID: 'j' };
    await expect(judge(model, input as JudgeInput)).rejects.toThrow(
      'judge: unknown option "candidateModelID" (known options: question, answer, criteria, scale, candidateModelId)',
    );
    expect(() => judgeMessages(input as JudgeInput)).toThrow(/^judgeMessages: unknown option/);
    const options = { criteria: 'c', modelC: 'x' } as PairwiseOptions;
    await expect(comparePairwise(model, [], options)).rejects.toThrow(
      'comparePairwise: unknown option "modelC" (known options: criteria, modelA, modelB, concurrency)',
    );
    expect(model.calls).toHaveLength(0);
  });

  it('warns when the judge grades its own model', async () => {
    const model = scripted('llm-x', () => 'VERDICT: PASS');
    const r = await judge(model, {
      question: 'q',
      answer: 'a',
      criteria: 'c',
      candidateModelId: 'llm-x',
    });
    expect(r.warnings[0]).toMatch(/self-enhancement: the judge "llm-x" is also a candidate/);
  });

  it('pairwise runs both orders and reports position bias', async () => {
    // Always prefers whatever is shown first: every item is inconsistent.
    const firstLover = scripted('j', () => 'WINNER: 1');
    const items = [
      { question: 'q1', answerA: 'short', answerB: 'a much longer answer' },
      { question: 'q2', answerA: 'x', answerB: 'y' },
    ];
    const biased = await comparePairwise(firstLover, items, { criteria: 'c' });
    expect(firstLover.calls).toHaveLength(4);
    expect(biased.winners).toEqual(['inconsistent', 'inconsistent']);
    expect(biased.positionDisagreement).toBe(1);
    expect(biased.firstPositionRate).toBe(1);
  });

  it('pairwise reports verbosity bias from consistent verdicts', async () => {
    // Prefers the longer answer in either position.
    const verbose = scripted('j', (user) => {
      const [, first, second] = /Answer 1: (.*)\n\nAnswer 2: (.*)$/s.exec(user)!;
      return first!.length === second!.length
        ? 'WINNER: TIE'
        : `Longer is better.\nWINNER: ${first!.length > second!.length ? 1 : 2}`;
    });
    const items = [
      { question: 'q1', answerA: 'short', answerB: 'a much longer answer' },
      { question: 'q2', answerA: 'the long one here', answerB: 'tiny' },
      { question: 'q3', answerA: 'same', answerB: 'size' },
    ];
    const r = await comparePairwise(verbose, items, { criteria: 'c', modelA: 'm1', modelB: 'j' });
    expect(r.winners).toEqual(['B', 'A', 'tie']);
    expect(r.positionDisagreement).toBe(0);
    expect(r.longerWinRate).toBe(1);
    expect(r.lengthComparisons).toBe(2);
    expect(r.firstPositionRate).toBe(0.5);
    expect(r.winRateA).toBeCloseTo(1 / 3, 12);
    expect(r.warnings).toHaveLength(1);
    // A wins where it is longer and loses where it is shorter: length explains it all.
    expect(r.lengthControlledWinRateA).toBeCloseTo(0.5, 1);
    const longerA = items.map((item) => ({
      ...item,
      answerA: `${item.answerA} and much more text`,
    }));
    const wordy = await comparePairwise(verbose, longerA, { criteria: 'c' });
    expect(wordy.winRateA).toBe(1);
    expect(wordy.lengthControlledWinRateA).toBeLessThan(wordy.winRateA);
  });
  it('pairwise judges `concurrency` items at once, with the same report as one at a time', async () => {
    let pending = 0;
    let most = 0;
    const slowVerbose: ChatModel = {
      id: 'j',
      chat: async (messages) => {
        pending++;
        most = Math.max(most, pending);
        const user = messages[1]!.content;
        await new Promise((resolve) => setTimeout(resolve, 30 - (user.length % 29)));
        pending--;
        const [, first, second] = /Answer 1: (.*)\n\nAnswer 2: (.*)$/s.exec(user)!;
        return `WINNER: ${first!.length >= second!.length ? 1 : 2}`;
      },
    };
    const items = Array.from({ length: 9 }, (_, i) => ({
      question: `q${i}`,
      answerA: 'a'.repeat(i),
      answerB: 'b'.repeat(4),
    }));
    const one = await comparePairwise(slowVerbose, items, { criteria: 'c' });
    expect(most).toBe(1);
    const three = await comparePairwise(slowVerbose, items, { criteria: 'c', concurrency: 3 });
    expect(most).toBe(3);
    expect(three).toEqual(one);
    expect(one.winners).toEqual(['B', 'B', 'B', 'B', 'inconsistent', 'A', 'A', 'A', 'A']);
  });
});
