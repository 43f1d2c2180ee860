import { chooseCommits, type ProposalRule, propose } from '@tessera/dllm';
import { banTokens, processorChain, softmaxRow } from '@tessera/sampler';
import { Rng } from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';

// Token 5 is the mask: the model scores it highest, yet it is never proposed.
const logits = Float32Array.from([1.5, -0.5, 2.5, 0.25, 2.0, 3.0]);
const MASK = 5;
const own = Float32Array.from(logits, (v, j) => (j === MASK ? Number.NEGATIVE_INFINITY : v));
const ctx = { ids: [], step: 0 };
const rule = (o: Partial<ProposalRule> = {}): ProposalRule => ({
  maskId: MASK,
  chain: [],
  temperature: 0,
  remasking: 'low-confidence',
  rng: new Rng(1),
  ...o,
});

describe('propose', () => {
  it("at temperature 0: the processed argmax, with its probability under the model's own distribution", () => {
    const p = propose(logits, 7, ctx, rule());
    expect(p).toEqual({ position: 7, token: 2, confidence: softmaxRow(own)[2] });
    const banned = propose(logits, 7, ctx, rule({ chain: [banTokens([2])] }));
    expect(banned.token).toBe(4);
    expect(banned.confidence).toBe(softmaxRow(own)[4]);
  });

  it('draws from softmax(processed / temperature); the confidence is the unprocessed probability', () => {
    const temperature = 2;
    const r = rule({ temperature, rng: new Rng(11), chain: processorChain({ topK: 4 }) });
    const counts = new Float64Array(logits.length);
    const draws = 20_000;
    for (let i = 0; i < draws; i++) {
      const p = propose(logits, 0, ctx, r);
      counts[p.token]! += 1;
      expect(p.confidence).toBe(softmaxRow(own)[p.token]);
    }
    const kept = Float32Array.from(own, (v, j) =>
      j === 1 ? Number.NEGATIVE_INFINITY : v / temperature,
    );
    const expected = softmaxRow(kept);
    expect(counts[1]).toBe(0); // top-k removed the least likely token
    expect(counts[MASK]).toBe(0);
    for (let j = 0; j < logits.length; j++)
      expect(Math.abs(counts[j]! / draws - expected[j]!)).toBeLessThan(0.015);
  });

  it('random remasking: a uniform confidence, independent of the logits', () => {
    const r = rule({ remasking: 'random', rng: new Rng(4) });
    const same = new Rng(4);
    expect(propose(logits, 0, ctx, r).confidence).toBe(same.next());
  });
});

describe('chooseCommits', () => {
  const proposals = [
    { position: 3, token: 1, confidence: 0.2 },
    { position: 4, token: 1, confidence: 0.9 },
    { position: 5, token: 1, confidence: 0.5 },
    { position: 6, token: 1, confidence: 0.5 },
  ];
  it('keeps the most confident (ties to the earlier position)', () => {
    expect(chooseCommits(proposals, 2).map((p) => p.position)).toEqual([4, 5]);
    expect(chooseCommits(proposals, 0)).toEqual([]);
    expect(chooseCommits(proposals, 9)).toHaveLength(4);
  });
  it('with a threshold, every one at or above it, the scheduled count, and at least one', () => {
    expect(chooseCommits(proposals, 1, 0.5).map((p) => p.position)).toEqual([4, 5, 6]);
    expect(chooseCommits(proposals, 0, 0.95).map((p) => p.position)).toEqual([4]);
    expect(chooseCommits(proposals, 2, 0.95).map((p) => p.position)).toEqual([4, 5]);
  });
});
