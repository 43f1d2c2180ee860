/**
 * Language-model quality from token log-probabilities (natural log). Pure TypeScript.
 */

function check(name: string, values: readonly number[]): void {
  if (values.length === 0)
    throw new RangeError(`${name}: expected at least one token log-probability`);
  for (const [i, v] of values.entries()) {
    if (!(v <= 0) || Number.isNaN(v))
      throw new RangeError(`${name}: log-probability ${i} is ${v}; log-probabilities are ≤ 0`);
  }
}

/** Mean negative log-likelihood per token, in nats. */
export function meanNll(logprobs: readonly number[]): number {
  check('meanNll', logprobs);
  return -logprobs.reduce((a, b) => a + b, 0) / logprobs.length;
}

/** exp(mean NLL): the perplexity of a text under the model. */
export function perplexity(logprobs: readonly number[]): number {
  return Math.exp(meanNll(logprobs));
}

/**
 * Bits per byte: total NLL (nats) over the text's UTF-8 bytes, in bits — comparable across
 * tokenizers, unlike per-token figures. `text` may be given as its byte count.
 */
export function bitsPerByte(logprobs: readonly number[], text: string | number): number {
  check('bitsPerByte', logprobs);
  const bytes = typeof text === 'number' ? text : new TextEncoder().encode(text).length;
  if (!(bytes > 0))
    throw new RangeError(`bitsPerByte: the text must have at least one byte, got ${bytes}`);
  return -logprobs.reduce((a, b) => a + b, 0) / Math.LN2 / bytes;
}

/** Bits per byte from a mean per-token NLL (nats) and the token/byte counts it was measured on. */
export function bitsPerByteFromMeanNll(meanNats: number, tokens: number, bytes: number): number {
  if (!(meanNats >= 0) || !(tokens > 0) || !(bytes > 0)) {
    throw new RangeError(
      `bitsPerByteFromMeanNll: expected meanNats >= 0, tokens > 0, bytes > 0; got ${meanNats}, ${tokens}, ${bytes}`,
    );
  }
  return (meanNats * tokens) / Math.LN2 / bytes;
}
