import { checkOptions } from './options.js';
import { measure, type TokenizerLike } from './tokenizer-like.js';

/** A retrieved passage to put in a prompt; a {@link Chunk} is one. */
export interface Passage {
  readonly id: string;
  readonly text: string;
  /** The document it comes from; default the passage id. */
  readonly sourceId?: string;
  /** Its span in the source (UTF-16 offsets), carried into the citation. */
  readonly start?: number;
  readonly end?: number;
}

/** What `[number]` in an answer refers to. */
export interface Citation {
  /** 1 for `[1]`. */
  readonly number: number;
  readonly id: string;
  readonly sourceId: string;
  readonly start?: number;
  readonly end?: number;
}

/** Options of {@link augmentPrompt}. */
export interface PromptOptions {
  /**
   * Budget for the whole prompt, in tokens when `tokenizer` is given, else in UTF-16 code units.
   * Passages go in rank order until the next would not fit. Default: no limit.
   */
  maxTokens?: number;
  /** Most passages to insert. Default all. */
  topK?: number;
  tokenizer?: TokenizerLike;
  /** The text before the sources. Default {@link DEFAULT_INSTRUCTIONS}. */
  instructions?: string;
}

/** The prompt, what each number cites, and how many passages did not fit. */
export interface AugmentedPrompt {
  readonly prompt: string;
  readonly citations: Citation[];
  /** Passages left out by `topK` or the budget. */
  readonly omitted: number;
}

export const DEFAULT_INSTRUCTIONS =
  'Answer the question using only the numbered sources below. After each statement, cite the ' +
  'sources it rests on by number in square brackets, e.g. [1] or [2][3]. If the sources do not ' +
  'hold the answer, say so.';

function render(instructions: string, blocks: string[], question: string): string {
  const sources = blocks.length > 0 ? blocks.join('\n\n') : '(none)';
  return `${instructions}\n\nSources:\n${sources}\n\nQuestion: ${question}\nAnswer:`;
}

/**
 * Builds a retrieval-augmented prompt: the instructions, the passages numbered `[1]`, `[2]`, …
 * under their source ids, then the question. With `maxTokens`, passages are inserted in rank
 * order while the whole prompt stays within the budget.
 *
 * @param passages - retrieved passages, best first
 * @throws RangeError or TypeError - an empty question, a bad budget or topK, a budget the
 *   question alone exceeds, or an unknown option
 */
export function augmentPrompt(
  question: string,
  passages: readonly Passage[],
  options: PromptOptions = {},
): AugmentedPrompt {
  const where = 'augmentPrompt';
  checkOptions(where, options, ['maxTokens', 'topK', 'tokenizer', 'instructions']);
  if (typeof question !== 'string' || question.trim() === '')
    throw new RangeError(`${where}: question must be a non-empty string`);
  const { tokenizer, maxTokens = Number.POSITIVE_INFINITY, topK = passages.length } = options;
  const instructions = options.instructions ?? DEFAULT_INSTRUCTIONS;
  if (!(maxTokens > 0)) throw new RangeError(`${where}: maxTokens must be > 0, got ${maxTokens}`);
  if (!Number.isInteger(topK) || topK < 0)
    throw new RangeError(`${where}: topK must be an integer >= 0, got ${topK}`);
  const fits = (blocks: string[]) =>
    measure(render(instructions, blocks, question), tokenizer) <= maxTokens;
  if (!fits([]))
    throw new RangeError(
      `${where}: the instructions and question alone take ${measure(render(instructions, [], question), tokenizer)} ${tokenizer ? 'tokens' : 'characters'}, over maxTokens ${maxTokens}`,
    );
  const blocks: string[] = [];
  const citations: Citation[] = [];
  for (const p of passages.slice(0, topK)) {
    const number = blocks.length + 1;
    const sourceId = p.sourceId ?? p.id;
    const block = `[${number}] ${sourceId}\n${p.text.trim()}`;
    if (!fits([...blocks, block])) break;
    blocks.push(block);
    citations.push({ number, id: p.id, sourceId, start: p.start, end: p.end });
  }
  return {
    prompt: render(instructions, blocks, question),
    citations,
    omitted: passages.length - blocks.length,
  };
}

/**
 * The citations an answer uses: every `[n]` that names one, in order of first use, each once.
 * Numbers that cite nothing are ignored.
 */
export function citedSources(answer: string, citations: readonly Citation[]): Citation[] {
  const byNumber = new Map(citations.map((c) => [c.number, c]));
  const used = new Map<number, Citation>();
  for (const m of answer.matchAll(/\[(\d+)\]/g)) {
    const c = byNumber.get(Number(m[1]));
    if (c && !used.has(c.number)) used.set(c.number, c);
  }
  return [...used.values()];
}
