import { parseNumber } from '@tessera/grpo';
import { Rng } from '@tessera/tensor-webgpu';

/**
 * Verifiable instruction tasks that a small model can learn: each question has one right answer,
 * and every reply ends with a line `Answer: <answer>`, so a reply can be checked for format
 * (does it end that way?) and for correctness (is that the answer?) without a judge.
 */
export const TASKS = ['add', 'compare', 'reverse', 'sort', 'line'] as const;
export type TaskName = (typeof TASKS)[number];

/** One generated question with its reply, and a wrong or badly formatted reply to prefer it over. */
export interface TaskExample {
  task: TaskName;
  question: string;
  /** The correct, well-formatted reply: a short worked line where there is one, then `Answer: …`. */
  reply: string;
  /** A wrong reply in the right format. */
  wrong: string;
  /** The right answer in the wrong format (no `Answer:` line, or text after it). */
  badlyFormatted: string;
}

/** Short words for the list tasks (all in the training text). */
export const WORDS = [
  'king',
  'queen',
  'love',
  'night',
  'day',
  'sword',
  'crown',
  'heart',
  'blood',
  'death',
  'lord',
  'lady',
  'moon',
  'sun',
  'fire',
  'grace',
  'war',
  'peace',
  'time',
  'hand',
  'eye',
  'soul',
  'world',
  'earth',
  'word',
  'name',
  'head',
  'life',
  'gold',
  'horse',
];

const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo + 1));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)]!;

function distinctWords(rng: Rng, n: number): string[] {
  const out: string[] = [];
  while (out.length < n) {
    const w = pick(rng, WORDS);
    if (!out.includes(w)) out.push(w);
  }
  return out;
}

const answer = (a: string) => `Answer: ${a}`;

/**
 * The final answer of a reply: the text after its last `Answer: `, or undefined when it has none.
 * A number is given in one form (`@tessera/grpo`'s `parseNumber`: `+9`, `9.` and `9` are `9`), so
 * that held-out accuracy and majority votes judge an answer as the GRPO reward does.
 */
export function finalAnswer(reply: string): string | undefined {
  const match = /(?:^|\n)Answer: ([^\n]*)$/.exec(reply.trimEnd());
  if (!match) return undefined;
  const text = match[1]!.trim();
  const number = parseNumber(text);
  return number === undefined ? text : String(number);
}

/**
 * One example of `task` from `rng`; `lines` are candidate lines of the training text (for the
 * `line` task: short lines of a few words).
 */
export function makeExample(task: TaskName, rng: Rng, lines: readonly string[]): TaskExample {
  switch (task) {
    case 'add': {
      const [a, b] = [int(rng, 10, 99), int(rng, 10, 99)];
      const c = a + b;
      const off = pick(rng, [-10, -2, -1, 1, 2, 10]);
      return {
        task,
        question: `What is ${a} + ${b}?`,
        reply: `${a} + ${b} = ${c}\n${answer(String(c))}`,
        wrong: `${a} + ${b} = ${c + off}\n${answer(String(c + off))}`,
        badlyFormatted: `${c}`,
      };
    }
    case 'compare': {
      let [a, b] = [int(rng, 10, 99), int(rng, 10, 99)];
      while (a === b) b = int(rng, 10, 99);
      const [hi, lo] = a > b ? [a, b] : [b, a];
      return {
        task,
        question: `Which is larger, ${a} or ${b}?`,
        reply: `${hi} > ${lo}\n${answer(String(hi))}`,
        wrong: `${lo} > ${hi}\n${answer(String(lo))}`,
        badlyFormatted: `${hi} is larger.`,
      };
    }
    case 'reverse': {
      const words = distinctWords(rng, 3);
      const reversed = [...words].reverse().join(' ');
      return {
        task,
        question: `Reverse the words: ${words.join(' ')}`,
        reply: answer(reversed),
        wrong: answer(words.join(' ')),
        badlyFormatted: `${reversed} ${words[0]}`,
      };
    }
    case 'sort': {
      let words = distinctWords(rng, 3);
      const isSorted = (ws: string[]) => ws.join() === [...ws].sort().join();
      while (isSorted(words)) words = distinctWords(rng, 3);
      const sorted = [...words].sort();
      return {
        task,
        question: `Sort the words: ${words.join(' ')}`,
        reply: answer(sorted.join(' ')),
        wrong: answer(words.join(' ')),
        badlyFormatted: `The words are ${sorted.join(' ')}`,
      };
    }
    case 'line': {
      const line = pick(rng, lines);
      const words = lineWords(line);
      const first = rng.next() < 0.5;
      const [right, other] = first ? [words[0]!, words.at(-1)!] : [words.at(-1)!, words[0]!];
      const middle = words[Math.floor(words.length / 2)]!;
      return {
        task,
        question: `${line}\nWhat is the ${first ? 'first' : 'last'} word?`,
        reply: answer(right),
        wrong: answer(other === right ? middle : other),
        badlyFormatted: `${right} ${right}`,
      };
    }
  }
}

/** The words of a line without the punctuation around them (`'Tis`, `senate-house` stay whole). */
export function lineWords(line: string): string[] {
  return line
    .split(/\s+/)
    .map((w) => w.replace(/^[^A-Za-z]+|[^A-Za-z]+$/g, ''))
    .filter(Boolean);
}

/**
 * Lines of a text usable by the `line` task: 3 to 6 words, at most `maxChars` characters, not a
 * speaker's name (which ends with a colon), with distinct first and last words.
 */
export function taskLines(text: string, maxChars = 30): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.length === 0 || line.length > maxChars || line.endsWith(':') || seen.has(line))
      continue;
    const words = lineWords(line);
    if (words.length < 3 || words.length > 6 || words[0] === words.at(-1)) continue;
    seen.add(line);
    out.push(line);
  }
  return out;
}

/** A seeded generator of examples that cycles through the tasks, never repeating a question. */
export function* exampleStream(seed: number, lines: readonly string[]): Generator<TaskExample> {
  const rng = new Rng(seed);
  const seen = new Set<string>();
  for (let i = 0; ; i++) {
    const task = TASKS[i % TASKS.length]!;
    for (let attempt = 0; attempt < 1000; attempt++) {
      const example = makeExample(task, rng, lines);
      if (seen.has(example.question)) continue;
      seen.add(example.question);
      yield example;
      break;
    }
  }
}
