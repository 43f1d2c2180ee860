import { processLogits, processorChain } from '@tessera/sampler';
import { describe, expect, it } from 'vitest';

const NEG = Number.NEGATIVE_INFINITY;
const run = (logits: number[], o: Parameters<typeof processorChain>[0], ids: number[] = []) =>
  Array.from(processLogits(Float32Array.from(logits), { ids, step: 0 }, processorChain(o)));

describe('logits processors (hand-computed)', () => {
  it('temperature divides; top-k keeps ties and handles k > vocab', () => {
    expect(run([2, 4, -2], { temperature: 2 })).toEqual([1, 2, -1]);
    expect(run([1, 3, 3, 2], { topK: 2 })).toEqual([NEG, 3, 3, NEG]);
    expect(run([1, 3, 3, 2], { topK: 3 })).toEqual([NEG, 3, 3, 2]);
    expect(run([1, 3, NEG], { topK: 10 })).toEqual([1, 3, NEG]);
  });

  it('top-p keeps the smallest prefix reaching p; p = 1 keeps everything', () => {
    // probabilities 0.5, 0.25, 0.125, 0.125
    const l = [Math.log(0.5), Math.log(0.25), Math.log(0.125), Math.log(0.125)];
    expect(run(l, { topP: 0.5 }).map(Number.isFinite)).toEqual([true, false, false, false]);
    expect(run(l, { topP: 0.6 }).map(Number.isFinite)).toEqual([true, true, false, false]);
    expect(run(l, { topP: 0.8 }).map(Number.isFinite)).toEqual([true, true, true, true]); // tie at the boundary kept
    expect(run(l, { topP: 1 })).toEqual(Array.from(Float32Array.from(l)));
  });

  it('min-p keeps p ≥ minP·p_max, including -Infinity inputs and the edges 0 and 1', () => {
    const l = [0, Math.log(0.5), Math.log(0.1), NEG];
    expect(run(l, { minP: 0.2 }).map(Number.isFinite)).toEqual([true, true, false, false]);
    expect(run(l, { minP: 0 }).map(Number.isFinite)).toEqual([true, true, true, false]);
    expect(run(l, { minP: 1 }).map(Number.isFinite)).toEqual([true, false, false, false]);
  });

  it('repetition penalty divides positive and multiplies negative logits (HF); presence/frequency subtract (OpenAI)', () => {
    expect(run([4, -4, 4], { repetitionPenalty: 2 }, [0, 1, 1])).toEqual([2, -8, 4]);
    expect(run([1, 1, 1], { presencePenalty: 0.5, frequencyPenalty: 0.25 }, [0, 1, 1])).toEqual([
      0.25, 0, 1,
    ]);
  });

  it('logit bias, banned and forced tokens', () => {
    expect(run([0, 0, 0], { logitBias: { 1: 5, 9: 3 }, bannedTokens: [2] })).toEqual([0, 5, NEG]);
    expect(run([5, 1, 0], { forcedToken: (s) => (s === 0 ? 2 : undefined) })).toEqual([
      NEG,
      NEG,
      0,
    ]);
  });

  it('typical-p keeps the tokens nearest the entropy', () => {
    // p = [0.4, 0.3, 0.2, 0.1]; H ≈ 1.28 nats; |−ln p − H|: 0.36, 0.08, 0.33, 1.02
    const l = [0.4, 0.3, 0.2, 0.1].map(Math.log);
    expect(run(l, { typicalP: 0.5 }).map(Number.isFinite)).toEqual([false, true, true, false]);
  });

  it('bad options are errors naming the option and value', () => {
    expect(() => processorChain({ temperature: -1 })).toThrow(
      /temperature must be a finite number >= 0, got -1/,
    );
    expect(() => processorChain({ topP: 0 })).toThrow(/topP must be in \(0, 1\], got 0/);
    expect(() => processorChain({ topP: 1.5 })).toThrow(/topP must be in \(0, 1\], got 1\.5/);
    expect(() => processorChain({ topK: 0 })).toThrow(/topK must be an integer >= 1, got 0/);
    expect(() => processorChain({ top_p: 0.9 } as never)).toThrow(
      /processorChain: unknown option "top_p" \(known options: temperature, topK, topP/,
    );
  });
});
