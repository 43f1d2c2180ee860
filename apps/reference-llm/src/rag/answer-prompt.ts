import {
  type AugmentedPrompt,
  augmentPrompt,
  type Passage,
  type TokenizerLike,
} from '@tessera/rag';

/** What {@link answerPrompt} fits the prompt into. */
export interface PromptWindow {
  /** The language model's tokenizer: the budget is in its tokens. */
  tokenizer: TokenizerLike;
  /** The model's context length in tokens (`maxSeqLen`). */
  window: number;
  /** Tokens the answer may take (`--max-new-tokens`), kept free of the prompt. */
  maxNewTokens: number;
  /** The prompt's instructions (default `augmentPrompt`'s). */
  instructions?: string;
}

/** A cited prompt that fits the window, and the budget it was fitted to. */
export interface FittedPrompt extends AugmentedPrompt {
  /** Tokens the prompt may take: the window less the answer's tokens. */
  budget: number;
  /** Tokens the prompt takes. */
  tokens: number;
}

/**
 * A retrieval-augmented prompt (`augmentPrompt`: numbered passages with their citations) whose
 * tokens and the answer's fit the model's window together: passages go in rank order while the
 * prompt stays within `window − maxNewTokens` tokens, so the lowest-ranked ones are dropped
 * first. A model whose window is exceeded would otherwise lose the prompt's oldest tokens — the
 * instructions and the best passages.
 *
 * @param hits - retrieved passages, best first
 * @throws RangeError - `maxNewTokens` leaves no room for a prompt, or the instructions and the
 *   question alone take more tokens than it leaves (the message gives both counts)
 */
export function answerPrompt(
  question: string,
  hits: readonly Passage[],
  o: PromptWindow,
): FittedPrompt {
  const budget = o.window - o.maxNewTokens;
  if (budget < 1)
    throw new RangeError(
      `--max-new-tokens ${o.maxNewTokens} leaves no room for a prompt in the model's ${o.window}-token window`,
    );
  const options = { tokenizer: o.tokenizer, instructions: o.instructions };
  const bare = o.tokenizer.encode(augmentPrompt(question, [], options).prompt).length;
  if (bare > budget)
    throw new RangeError(
      `the instructions and the question take ${bare} tokens, over the ${budget} that the model's ${o.window}-token window leaves beside --max-new-tokens ${o.maxNewTokens}: ask a shorter question or lower --max-new-tokens`,
    );
  const fitted = augmentPrompt(question, hits, { ...options, maxTokens: budget });
  return { ...fitted, budget, tokens: o.tokenizer.encode(fitted.prompt).length };
}
