import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChatMessage } from '@tessera/tokenizer';
import { writeAtomic } from '../atomic-write.js';

/**
 * The JSONL formats of the tuning stages, one JSON object per line (the shapes TRL's
 * conversational datasets use, so a user's own file in the same shape works):
 *
 *     {"messages": [{"role": "user", "content": "What is 12 + 30?"}, {"role": "assistant", "content": "12 + 30 = 42\nAnswer: 42"}], "task": "add"}
 *     {"prompt": [{"role": "user", "content": "…"}], "chosen": [{"role": "assistant", "content": "…"}], "rejected": [{"role": "assistant", "content": "…"}]}
 *
 * Roles are `system`, `user` and `assistant`; `task` is optional (it groups the figures of the
 * evaluation). An instruction example ends with the assistant's reply; a preference pair's
 * `chosen` and `rejected` are each one assistant message, and differ.
 */
export const ROLES = ['system', 'user', 'assistant'] as const;

/** An instruction example (SFT), and a held-out question with its reference reply. */
export interface ChatExample {
  messages: ChatMessage[];
  task?: string;
}

/** A preference pair (reward model, DPO); PPO takes its prompts. */
export interface PreferenceExample {
  prompt: ChatMessage[];
  chosen: ChatMessage[];
  rejected: ChatMessage[];
  task?: string;
}

/** An error about a line of a file: `path:line: message`. */
export function lineError(path: string, line: number, message: string): Error {
  return new Error(`${path}:${line}: ${message}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : typeof value;
}

/**
 * Reads a JSONL file, one record per non-empty line, each checked by `parse` (which throws with
 * a message; it is prefixed with `path:line:`). Throws naming the file (and `flag`, the option
 * that gave it) when it is missing or holds no record.
 */
export function readJsonl<T>(path: string, parse: (value: unknown) => T, flag?: string): T[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const { code } = e as NodeJS.ErrnoException;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a folder, not a JSONL file'
          : (e as Error).message;
    throw new Error(`${flag ? `${flag} ` : ''}${path}: ${why}`);
  }
  const out: T[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw lineError(path, i + 1, `is not JSON (${(e as Error).message})`);
    }
    try {
      out.push(parse(value));
    } catch (e) {
      throw lineError(path, i + 1, (e as Error).message);
    }
  });
  if (out.length === 0) throw new Error(`${path}: holds no records (one JSON object per line)`);
  return out;
}

/** Records as JSONL text: one JSON object per line. */
export function toJsonl(records: readonly object[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}

/** Writes records as JSONL, atomically (creating the folder). */
export function writeJsonl(path: string, records: readonly object[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeAtomic(path, toJsonl(records));
}

function record(value: unknown, keys: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new TypeError(`must be a JSON object, got ${describe(value)}`);
  for (const key of Object.keys(value))
    if (!keys.includes(key))
      throw new TypeError(`unknown field "${key}"; known fields: ${keys.join(', ')}`);
  return value as Record<string, unknown>;
}

function messages(value: unknown, field: string): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new TypeError(`field "${field}" must be a non-empty array of messages`);
  return value.map((m, i) => {
    const where = `${field}[${i}]`;
    if (m === null || typeof m !== 'object' || Array.isArray(m))
      throw new TypeError(`${where} must be an object { role, content }, got ${describe(m)}`);
    const { role, content, ...rest } = m as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined)
      throw new TypeError(
        `${where} has an unknown field "${extra}"; a message has role and content`,
      );
    if (!ROLES.includes(role as (typeof ROLES)[number]))
      throw new TypeError(
        `${where} has role ${JSON.stringify(role)}; expected one of ${ROLES.join(', ')}`,
      );
    if (typeof content !== 'string')
      throw new TypeError(`${where}.content must be a string, got ${describe(content)}`);
    return { role: role as string, content };
  });
}

function task(value: unknown): string | undefined {
  if (value !== undefined && typeof value !== 'string')
    throw new TypeError(`field "task" must be a string, got ${describe(value)}`);
  return value as string | undefined;
}

/** One reply: a single assistant message with non-empty content. */
function reply(value: unknown, field: string): ChatMessage[] {
  const list = messages(value, field);
  if (list.length !== 1 || list[0]!.role !== 'assistant')
    throw new TypeError(`field "${field}" must be one assistant message`);
  if (list[0]!.content.trim() === '') throw new RangeError(`the ${field} completion is empty`);
  return list;
}

/** Checks an instruction record: messages ending with a non-empty assistant reply. */
export function parseChatExample(value: unknown): ChatExample {
  const r = record(value, ['messages', 'task']);
  const list = messages(r.messages, 'messages');
  const last = list.at(-1)!;
  if (last.role !== 'assistant')
    throw new TypeError(
      `the last message must be the assistant's reply, got role "${last.role}" (messages[${list.length - 1}])`,
    );
  if (last.content.trim() === '')
    throw new RangeError(
      `the assistant's reply (messages[${list.length - 1}]) is an empty completion`,
    );
  if (!list.some((m) => m.role === 'user'))
    throw new TypeError('the messages have no user message to reply to');
  const t = task(r.task);
  return { messages: list, ...(t !== undefined && { task: t }) };
}

/** Checks a preference record: a prompt, and two different non-empty replies. */
export function parsePreferenceExample(value: unknown): PreferenceExample {
  const r = record(value, ['prompt', 'chosen', 'rejected', 'task']);
  const prompt = messages(r.prompt, 'prompt');
  if (prompt.at(-1)!.role !== 'user')
    throw new TypeError(
      `the prompt must end with a user message, got role "${prompt.at(-1)!.role}"`,
    );
  const chosen = reply(r.chosen, 'chosen');
  const rejected = reply(r.rejected, 'rejected');
  if (chosen[0]!.content === rejected[0]!.content)
    throw new RangeError('chosen and rejected are the same reply: the pair prefers nothing');
  const t = task(r.task);
  return { prompt, chosen, rejected, ...(t !== undefined && { task: t }) };
}
