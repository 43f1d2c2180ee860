import { checkNumber } from '@tessera/rlhf';
import { type CausalLM, generateBatch, type TextCodec } from '@tessera/sampler';
import { checkOptions } from '@tessera/tensor-webgpu';

export interface SampleGroupsOptions {
  /** Completions per prompt G (TRL `num_generations`), >= 2. */
  groupSize: number;
  /** Tokens a completion may have at most (TRL `max_completion_length`). */
  maxNewTokens: number;
  /** Sampling temperature (> 0). Default 1. */
  temperature?: number;
  /** Nucleus sampling: keep the smallest set of tokens of probability ≥ topP (0 < p ≤ 1). Default 1 (off). */
  topP?: number;
  /** A completion ends after any of these ids (its end-of-answer token), which it includes. */
  stopTokenIds?: readonly number[];
  /** A completion ends once its text contains one of these (e.g. `</answer>`); needs `codec`. */
  stopSequences?: readonly string[];
  /** Decodes ids for `stopSequences`. */
  codec?: TextCodec;
  /** Completion i (of all P·G) samples with seed `seed + i`. Default 0. */
  seed?: number;
  /** Completions decoded together at most (rows of the KV cache). Default all. */
  rows?: number;
}

const KEYS = [
  'groupSize',
  'maxNewTokens',
  'temperature',
  'topP',
  'stopTokenIds',
  'stopSequences',
  'codec',
  'seed',
  'rows',
] as const;

/**
 * GRPO's generation batch: `groupSize` sampled completions of each prompt, decoded together by
 * the sampler's batched generation (`generateBatch`: one KV cache, each row at its own
 * position). Completion p·G + g is the g-th of prompt p, sampled with its own seed, so a batch
 * is reproducible and a completion does not depend on the others.
 *
 * Reference: Shao et al., "DeepSeekMath" (2024), §4.1 (a group of outputs per question); TRL
 * `GRPOTrainer` (`num_generations`, `temperature`, `top_p`, `max_completion_length`).
 *
 * @param prompts - token ids of each prompt (P prompts)
 * @returns P·G completions (token ids, prompt excluded, a stop token included), grouped by prompt
 * @throws TypeError / RangeError - bad options, or no prompts
 */
export async function sampleGroups(
  policy: CausalLM,
  prompts: readonly (readonly number[])[],
  options: SampleGroupsOptions,
): Promise<number[][]> {
  const where = 'sampleGroups';
  checkOptions(where, options, KEYS);
  if (!Array.isArray(prompts) || prompts.length === 0)
    throw new RangeError(`${where}: prompts must be a non-empty array of token-id arrays`);
  const groupSize = checkNumber(where, 'groupSize', options?.groupSize, { min: 2, integer: true });
  const maxNewTokens = checkNumber(where, 'maxNewTokens', options.maxNewTokens, {
    min: 1,
    integer: true,
  });
  const temperature = checkNumber(where, 'temperature', options.temperature ?? 1, { above: 0 });
  const topP = checkNumber(where, 'topP', options.topP ?? 1, { above: 0, max: 1 });
  const seed = checkNumber(where, 'seed', options.seed ?? 0, { integer: true });
  const rows = prompts.length * groupSize;
  const repeated = prompts.flatMap((p) => Array.from({ length: groupSize }, () => p));
  return generateBatch(
    policy,
    repeated,
    repeated.map((_, i) => ({
      maxNewTokens,
      temperature,
      ...(topP < 1 && { topP }),
      stopTokenIds: options.stopTokenIds ?? [],
      ...(options.stopSequences && { stopSequences: options.stopSequences }),
      ...(options.codec && { codec: options.codec }),
      seed: seed + i,
    })),
    {
      rows: checkNumber(where, 'rows', options.rows ?? rows, { min: 1, integer: true }),
    },
  );
}
