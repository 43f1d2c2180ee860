import { describe, expect, it } from 'vitest';
import { fromHuggingFaceJson } from './hf.js';
import { hfVariant } from './hf-fixtures.js';

const load = (patch: Record<string, unknown>) => () => fromHuggingFaceJson(hfVariant(patch));
const truncation = { max_length: 8, strategy: 'LongestFirst', stride: 0 };
const padding = {
  strategy: { Fixed: 8 },
  direction: 'Left',
  pad_to_multiple_of: null,
  pad_id: 0,
  pad_type_id: 0,
  pad_token: '<pad>',
};

describe('version, truncation and padding are checked as Hugging Face reads them', () => {
  it('the review cases: truncation "x", padding 5, version 5', () => {
    expect(load({ truncation: 'x' })).toThrow(
      'tokenizer.json: truncation must be an object, got string "x"',
    );
    expect(load({ padding: 5 })).toThrow('tokenizer.json: padding must be an object, got number 5');
    expect(load({ version: 5 })).toThrow('tokenizer.json: version must be a string, got number 5');
    expect(load({ version: '2.0' })).toThrow('tokenizer.json: version must be "1.0", got "2.0"');
  });

  it('each field of truncation and padding', () => {
    expect(load({ truncation: { ...truncation, stride: undefined } })).toThrow(
      'tokenizer.json: truncation.stride must be a non-negative integer (usize), got nothing',
    );
    expect(load({ truncation: { ...truncation, direction: 'Up' } })).toThrow(
      'tokenizer.json: truncation.direction must be one of "Left", "Right", got string "Up"',
    );
    expect(load({ padding: { ...padding, strategy: 'Fixed' } })).toThrow(
      'tokenizer.json: padding.strategy must be one of "BatchLongest", got string "Fixed"',
    );
    expect(load({ padding: { ...padding, pad_id: 2 ** 32 } })).toThrow(
      'tokenizer.json: padding.pad_id must be an integer from 0 to 4294967295 (u32)',
    );
  });

  it('are not applied: encode returns every id, unpadded', () => {
    const plain = fromHuggingFaceJson(hfVariant({}));
    const limited = fromHuggingFaceJson(hfVariant({ truncation, padding }));
    const text = 'To be, or not to be, that is the question.';
    expect(plain.encode(text).length).toBeGreaterThan(8);
    expect(limited.encode(text)).toEqual(plain.encode(text));
  });
});
