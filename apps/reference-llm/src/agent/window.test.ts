import type { ChatMessage } from '@tessera/tokenizer';
import { describe, expect, it } from 'vitest';
import { formatToolResult } from '../serve/tools.js';
import {
  checkAgentPrompt,
  describeFit,
  type Exchange,
  fitConversation,
  OBSERVATION_CUT,
  OBSERVATION_LEFT_OUT,
  renderConversation,
} from './window.js';

/** A window that counts a conversation's characters as its tokens. */
const chars = (size: number, replyTokens = 10) => ({
  size,
  replyTokens,
  tokens: (messages: readonly ChatMessage[]) => messages.reduce((n, m) => n + m.content.length, 0),
});
const head: ChatMessage[] = [
  { role: 'system', content: 's'.repeat(50) },
  { role: 'user', content: 'q'.repeat(10) },
];
const reply = 'r'.repeat(20);
const step = (...observations: number[]): Exchange => ({
  reply,
  observations: observations.map((n, i) => String.fromCharCode(97 + i).repeat(n)),
});
const WRAP = formatToolResult('').length; // 33: the tool_response tags around an observation
const tool = (content: string): ChatMessage => ({
  role: 'tool',
  content: formatToolResult(content),
});
const assistant: ChatMessage = { role: 'assistant', content: reply };

describe('fitConversation', () => {
  it('leaves a conversation that fits as it is', () => {
    const exchanges = [step(10)];
    const { messages, fit } = fitConversation(head, exchanges, chars(60 + 20 + WRAP + 10 + 10));
    expect(messages).toEqual(renderConversation(head, exchanges));
    expect(messages).toEqual([...head, assistant, tool('a'.repeat(10))]);
    expect(fit).toEqual({
      tokens: 123,
      budget: 123,
      stepsLeftOut: 0,
      observationsLeftOut: 0,
      replyLeftOut: false,
    });
  });

  it('leaves out the oldest observations, then the oldest steps, never the newest', () => {
    // In full 60 + 2 * (20 + 33 + 40) = 246 tokens; with the first observation a note, 234.
    const two = fitConversation(head, [step(40), step(40)], chars(250));
    expect(two.messages).toEqual([
      ...head,
      assistant,
      tool(OBSERVATION_LEFT_OUT),
      assistant,
      tool('a'.repeat(40)),
    ]);
    expect(two.fit).toMatchObject({ tokens: 234, stepsLeftOut: 0, observationsLeftOut: 1 });
    // Three steps: two notes are not enough (315), the first step goes (234).
    const three = fitConversation(head, [step(40), step(40), step(40)], chars(250));
    expect(three.messages).toEqual([
      ...head,
      assistant,
      tool(OBSERVATION_LEFT_OUT),
      assistant,
      tool('a'.repeat(40)),
    ]);
    expect(three.fit).toMatchObject({ tokens: 234, stepsLeftOut: 1, observationsLeftOut: 2 });
  });

  it('cuts the newest observations from their end, then leaves out the newest reply', () => {
    // 60 + 20 + 33 + k + 6 <= 240: the first 121 characters of 500.
    const cut = fitConversation(head, [step(40), step(500)], chars(250));
    expect(cut.messages).toEqual([
      ...head,
      assistant,
      tool(`${'a'.repeat(121)}${OBSERVATION_CUT}`),
    ]);
    expect(cut.fit).toEqual({
      tokens: 240,
      budget: 240,
      stepsLeftOut: 1,
      observationsLeftOut: 1,
      replyLeftOut: false,
      cut: { kept: 121, of: 500 },
    });
    // Two observations: the first whole, then what fits of the second (30 + 10 of 330).
    const both = fitConversation(head, [step(30, 300)], chars(60 + 20 + 2 * WRAP + 40 + 6 + 10));
    expect(both.messages.slice(3)).toEqual([
      tool('a'.repeat(30)),
      tool(`${'b'.repeat(10)}${OBSERVATION_CUT}`),
    ]);
    expect(both.fit.cut).toEqual({ kept: 40, of: 330 });
    // Not even the wrapper fits beside the reply (119 > 110): the reply goes, 11 characters stay.
    const noReply = fitConversation(head, [step(500)], chars(120));
    expect(noReply.messages).toEqual([...head, tool(`${'a'.repeat(11)}${OBSERVATION_CUT}`)]);
    expect(noReply.fit).toMatchObject({
      tokens: 110,
      replyLeftOut: true,
      cut: { kept: 11, of: 500 },
    });
    // Everything but the head and an empty wrapper left out still takes 99 tokens.
    expect(() => fitConversation(head, [step(40), step(500)], chars(100))).toThrow(
      new RangeError(
        "the conversation takes 99 tokens with every earlier step, the newest reply and the text of its observations left out: over the 90 that the model's 100-token window leaves beside --max-new-tokens 10",
      ),
    );
  });

  it('says what was left out at a step', () => {
    const base = { tokens: 230, budget: 240, replyLeftOut: false };
    expect(describeFit({ ...base, stepsLeftOut: 0, observationsLeftOut: 0 }, 3)).toBe('');
    expect(describeFit({ ...base, stepsLeftOut: 0, observationsLeftOut: 1 }, 3)).toBe(
      "to fit the model's window (230 of the 240 tokens it leaves beside the reply): the observations of step 1 left out",
    );
    expect(
      describeFit(
        {
          ...base,
          stepsLeftOut: 2,
          observationsLeftOut: 4,
          replyLeftOut: true,
          cut: { kept: 11, of: 500 },
        },
        6,
      ),
    ).toBe(
      "to fit the model's window (230 of the 240 tokens it leaves beside the reply): steps 1-2 left out; the observations of steps 3-4 left out; the reply of step 5 left out; the observations of step 5 cut to their first 11 of 500 characters",
    );
  });
});

describe('checkAgentPrompt', () => {
  it('passes a prompt that leaves the reply its tokens', () => {
    expect(() => checkAgentPrompt(head, chars(70))).not.toThrow();
  });

  it('refuses one that does not, with the counts and the presets whose window holds it', () => {
    expect(() => checkAgentPrompt(head, chars(50))).toThrow(
      new RangeError(
        "the agent's instructions and tools take 50 tokens and the question 10 more, 60 in all: over the 40 that the model's 50-token window leaves beside --max-new-tokens 10. The agent needs a window of at least 70 tokens: a model of the small preset (256 tokens) or larger",
      ),
    );
    // 60 tokens in a 64-token window: a reply of 4 would fit.
    expect(() => checkAgentPrompt(head, chars(64, 10))).toThrow(
      'The agent needs a window of at least 70 tokens: a model of the small preset (256 tokens) or larger, or --max-new-tokens 4 or less',
    );
    const long: ChatMessage[] = [head[0]!, { role: 'user', content: 'q'.repeat(600) }];
    expect(() => checkAgentPrompt(long, chars(256, 64))).toThrow(
      "The agent needs a window of at least 714 tokens: more than the largest preset's (base, 512 tokens), so ask a shorter question",
    );
    expect(() => checkAgentPrompt(head, chars(64, 64))).toThrow(
      new RangeError(
        "--max-new-tokens 64 leaves no room for a prompt in the model's 64-token window",
      ),
    );
  });
});
