import { Tokenizer } from '@tessera/tokenizer';

/**
 * The diffusion model's mask token, LLaDA's name for it. It is appended to the pretraining
 * tokenizer as a special token with the next free id, so text encodes to exactly the pretrained
 * model's ids (and bits per byte compare token for token), and the mask never occurs in text:
 * encoding refuses special-token text unless allowed, and the app never allows this one.
 */
export const MASK_TOKEN = '<|mdm_mask|>';

/** The tokenizer with the mask token appended (id = its vocabulary size); unchanged if it has it. */
export function withMaskToken(tokenizer: Tokenizer): Tokenizer {
  if (MASK_TOKEN in tokenizer.specialTokens) return tokenizer;
  const { config } = tokenizer;
  return new Tokenizer({
    ...config,
    specialTokens: { ...config.specialTokens, [MASK_TOKEN]: tokenizer.vocabSize },
  });
}
