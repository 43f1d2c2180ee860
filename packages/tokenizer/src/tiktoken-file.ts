import { checkOptions } from './options.js';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN } from './pattern.js';
import { Tokenizer } from './tokenizer.js';

function base64ToByteString(b64: string): string {
  return atob(b64);
}

function byteStringToBase64(s: string): string {
  return btoa(s);
}

/**
 * Parses a tiktoken rank file (`<base64 token> <rank>` per line, e.g. cl100k_base.tiktoken)
 * into byte string → rank. Errors name the line.
 */
export function parseTiktokenRanks(text: string): Map<string, number> {
  const ranks = new Map<string, number>();
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) continue;
    const [token, rank, extra] = line.split(' ');
    const value = Number(rank);
    if (!token || extra !== undefined || !Number.isInteger(value) || value < 0) {
      throw new Error(
        `tiktoken ranks: line ${i + 1} is not "<base64> <rank>": ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    let bytes: string;
    try {
      bytes = base64ToByteString(token);
    } catch {
      throw new Error(`tiktoken ranks: line ${i + 1} has invalid base64 ${JSON.stringify(token)}`);
    }
    ranks.set(bytes, value);
  }
  return ranks;
}

/** Serialises ranks in tiktoken's file format (sorted by rank). */
export function formatTiktokenRanks(ranks: ReadonlyMap<string, number>): string {
  return [...ranks]
    .sort((a, b) => a[1] - b[1])
    .map(([bytes, rank]) => `${byteStringToBase64(bytes)} ${rank}`)
    .join('\n')
    .concat('\n');
}

/** Patterns and special tokens of the OpenAI encodings (the ranks themselves are files you load). */
export const ENCODINGS = {
  gpt2: { pattern: GPT2_PATTERN, specialTokens: { '<|endoftext|>': 50256 } },
  r50k_base: { pattern: GPT2_PATTERN, specialTokens: { '<|endoftext|>': 50256 } },
  cl100k_base: {
    pattern: CL100K_PATTERN,
    specialTokens: {
      '<|endoftext|>': 100257,
      '<|fim_prefix|>': 100258,
      '<|fim_middle|>': 100259,
      '<|fim_suffix|>': 100260,
      '<|endofprompt|>': 100276,
    },
  },
  o200k_base: {
    pattern: O200K_PATTERN,
    specialTokens: { '<|endoftext|>': 199999, '<|endofprompt|>': 200018 },
  },
} as const;

export type EncodingName = keyof typeof ENCODINGS;

/**
 * A tokenizer from a tiktoken rank file's text and an encoding name (pattern and special tokens)
 * or an explicit pattern: `fromTiktoken(readFileSync('cl100k_base.tiktoken', 'utf8'), 'cl100k_base')`.
 */
export function fromTiktoken(
  ranksText: string | ReadonlyMap<string, number>,
  encoding:
    | EncodingName
    | { pattern: string; specialTokens?: Record<string, number>; name?: string },
): Tokenizer {
  if (typeof encoding !== 'string')
    checkOptions('fromTiktoken', encoding, ['pattern', 'specialTokens', 'name']);
  const spec = typeof encoding === 'string' ? ENCODINGS[encoding] : encoding;
  if (!spec)
    throw new Error(
      `fromTiktoken: unknown encoding ${JSON.stringify(encoding)}; known: ${Object.keys(ENCODINGS).join(', ')}`,
    );
  const encoder = typeof ranksText === 'string' ? parseTiktokenRanks(ranksText) : ranksText;
  return new Tokenizer({
    encoder,
    pattern: spec.pattern,
    specialTokens: { ...spec.specialTokens },
    name: typeof encoding === 'string' ? encoding : (encoding.name ?? 'tiktoken'),
  });
}
