import { trainBpe } from '@tessera/tokenizer';
import { describe, expect, it } from 'vitest';
import { shakespeare } from '../test-utils/fixtures.js';
import { MASK_TOKEN, withMaskToken } from './tokenizer.js';

describe('withMaskToken', () => {
  const base = trainBpe([shakespeare(20_000)], {
    vocabSize: 300,
    specialTokens: ['<|endoftext|>'],
  });

  it('appends the mask token after the last id; text encodes as before; idempotent', () => {
    const t = withMaskToken(base);
    expect(t.vocabSize).toBe(base.vocabSize + 1);
    expect(t.specialTokens[MASK_TOKEN]).toBe(base.vocabSize);
    expect(t.specialTokens['<|endoftext|>']).toBe(base.specialTokens['<|endoftext|>']);
    const text = shakespeare(3000);
    expect(t.encode(text)).toEqual(base.encode(text));
    expect(t.decode([base.vocabSize])).toBe(MASK_TOKEN);
    expect(withMaskToken(t)).toBe(t);
  });

  it('never reads the mask from text unless allowed', () => {
    const t = withMaskToken(base);
    expect(() => t.encode(`a ${MASK_TOKEN} b`)).toThrow(/<\|mdm_mask\|>/);
    expect(t.encode(`a ${MASK_TOKEN} b`, { disallowedSpecial: [] })).not.toContain(
      t.specialTokens[MASK_TOKEN],
    );
  });
});
