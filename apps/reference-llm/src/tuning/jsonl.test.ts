import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-utils/fixtures.js';
import { parseChatExample, parsePreferenceExample, readJsonl, writeJsonl } from './jsonl.js';

const user = { role: 'user', content: 'What is 1 + 2?' };
const assistant = (content: string) => ({ role: 'assistant', content });

function file(lines: unknown[]): string {
  const path = join(tempDir('tessera-jsonl-'), 'data.jsonl');
  writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'));
  return path;
}

describe('JSONL data', () => {
  it('round-trips both formats, skipping blank lines', () => {
    const chats = [
      { messages: [user, assistant('Answer: 3')], task: 'add' },
      { messages: [{ role: 'system', content: 'Be brief.' }, user, assistant('3')] },
    ];
    const path = join(tempDir('tessera-jsonl-'), 'chats.jsonl');
    writeJsonl(path, chats);
    expect(readJsonl(path, parseChatExample)).toEqual(chats);
    const pair = {
      prompt: [user],
      chosen: [assistant('Answer: 3')],
      rejected: [assistant('Answer: 4')],
    };
    expect(readJsonl(file([pair, '', '  ', pair]), parsePreferenceExample)).toEqual([pair, pair]);
  });

  it('names the file and line of a bad record, and what is wrong', () => {
    const chat = (m: unknown, extra = {}) =>
      file([{ messages: [user, assistant('ok')] }, { messages: m, ...extra }]);
    const cases: [string, RegExp][] = [
      [file(['{"messages": [', '']), /data\.jsonl:1: is not JSON/],
      [
        file([{ messages: [user, assistant('ok')] }, [1, 2]]),
        /data\.jsonl:2: must be a JSON object, got an array/,
      ],
      [
        chat([{ role: 'bot', content: 'hi' }, assistant('x')]),
        /:2: messages\[0\] has role "bot"; expected one of system, user, assistant/,
      ],
      [
        chat([user, assistant('  ')]),
        /:2: the assistant's reply \(messages\[1\]\) is an empty completion/,
      ],
      [chat([user]), /:2: the last message must be the assistant's reply, got role "user"/],
      [
        chat([user, { role: 'assistant', text: 'x' }]),
        /:2: messages\[1\] has an unknown field "text"/,
      ],
      [
        chat([user, assistant('x')], { mesages: 1 }),
        /:2: unknown field "mesages"; known fields: messages, task/,
      ],
      [chat([user, assistant('x')], { task: 3 }), /:2: field "task" must be a string, got number/],
    ];
    for (const [path, message] of cases)
      expect(() => readJsonl(path, parseChatExample)).toThrow(message);
    const pair = (chosen: string, rejected: string) =>
      file([{ prompt: [user], chosen: [assistant(chosen)], rejected: [assistant(rejected)] }]);
    expect(() => readJsonl(pair('Answer: 3', 'Answer: 3'), parsePreferenceExample)).toThrow(
      /:1: chosen and rejected are the same reply/,
    );
    expect(() => readJsonl(pair('Answer: 3', ''), parsePreferenceExample)).toThrow(
      /:1: the rejected completion is empty/,
    );
    expect(() =>
      readJsonl(
        file([{ prompt: [assistant('x')], chosen: [assistant('a')], rejected: [assistant('b')] }]),
        parsePreferenceExample,
      ),
    ).toThrow(/:1: the prompt must end with a user message/);
    expect(() => readJsonl(file(['', '']), parseChatExample)).toThrow(/holds no records/);
    expect(() => readJsonl('/nonexistent/data.jsonl', parseChatExample, '--data')).toThrow(
      '--data /nonexistent/data.jsonl: no such file',
    );
    expect(() => readJsonl(tmpdir(), parseChatExample)).toThrow(/is a folder, not a JSONL file$/);
  });
});
