import type { ChatExample, PreferenceExample } from './jsonl.js';
import { exampleStream, type TaskExample, taskLines } from './tasks.js';

/** How many examples each split gets. */
export interface SplitSizes {
  train: number;
  heldout: number;
}

/** A training split and a held-out split that shares no question with it. */
export interface Splits<T> {
  train: T[];
  heldout: T[];
}

/**
 * The pool a question belongs to, from a hash of its text (FNV-1a, 32 bits): instruction data
 * draws only even-hash questions and preference pairs only odd-hash ones, so no preference pair
 * asks a question of the instruction data (its held-out split measures every tuned model).
 */
export function questionPool(question: string): 'instruction' | 'preference' {
  let h = 0x811c9dc5;
  for (let i = 0; i < question.length; i++) h = Math.imul(h ^ question.charCodeAt(i), 0x01000193);
  return (h >>> 0) % 2 === 0 ? 'instruction' : 'preference';
}

function take(
  seed: number,
  text: string,
  sizes: SplitSizes,
  pool: 'instruction' | 'preference',
): Splits<TaskExample> {
  const stream = exampleStream(seed, taskLines(text));
  const next = () => {
    for (;;) {
      const e = stream.next().value as TaskExample;
      if (questionPool(e.question) === pool) return e;
    }
  };
  // Held-out first: the stream never repeats a question, so the splits are disjoint.
  const heldout = Array.from({ length: sizes.heldout }, next);
  const train = Array.from({ length: sizes.train }, next);
  return { train, heldout };
}

/** An instruction example: the question, then the correct reply. */
export function chatExample(e: TaskExample): ChatExample {
  return {
    messages: [
      { role: 'user', content: e.question },
      { role: 'assistant', content: e.reply },
    ],
    task: e.task,
  };
}

/**
 * Instruction data from the verifiable tasks (`tasks.ts`), deterministic from `seed`: the tasks
 * in turn (questions of the instruction pool, `questionPool`), with the `line` task's lines taken from `text` (the training text).
 */
export function instructionData(
  seed: number,
  text: string,
  sizes: SplitSizes,
): Splits<ChatExample> {
  const { train, heldout } = take(seed, text, sizes, 'instruction');
  return { train: train.map(chatExample), heldout: heldout.map(chatExample) };
}

/**
 * Preference pairs with a verifiable preference: the correct, well-formatted reply is chosen over
 * a wrong one in the right format (even-numbered pairs) or the right answer badly formatted
 * (odd-numbered pairs). Deterministic from `seed`; no question is one `instructionData` can ask
 * (`questionPool`), whatever the seeds and sizes.
 */
export function preferenceData(
  seed: number,
  text: string,
  sizes: SplitSizes,
): Splits<PreferenceExample> {
  const { train, heldout } = take(seed + 7919, text, sizes, 'preference');
  const pair = (e: TaskExample, i: number): PreferenceExample => ({
    prompt: [{ role: 'user', content: e.question }],
    chosen: [{ role: 'assistant', content: e.reply }],
    rejected: [{ role: 'assistant', content: i % 2 === 0 ? e.wrong : e.badlyFormatted }],
    task: e.task,
  });
  return { train: train.map(pair), heldout: heldout.map(pair) };
}
