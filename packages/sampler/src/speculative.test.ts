import { generate, softmaxRow, speculativeGenerate } from '@tessera/sampler';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { BigramLM, CHI2_999, chiSquare, TrigramLM } from './test-utils/toy-models.js';

const { all, cpu } = await testDevices();

// The distribution tests check the algorithm over 400 runs, so they use the CPU reference (the
// kernels are covered by the cache tests below, on every backend).
describe('speculative decoding', () => {
  const target = () =>
    new BigramLM(cpu, [
      [0.2, 1.0, -0.5, 0.3],
      [1.2, -1.0, 0.4, 0.0],
      [0.0, 0.5, 0.5, -0.7],
      [-0.3, 0.8, 0.1, 0.6],
    ]);

  for (const [name, draftRows] of [
    [
      'a similar draft',
      [
        [0.1, 1.1, -0.4, 0.2],
        [1.0, -0.8, 0.5, 0.1],
        [0.1, 0.4, 0.6, -0.6],
        [-0.2, 0.7, 0.2, 0.5],
      ],
    ],
    [
      'a deliberately bad draft',
      [
        [3, -3, -3, -3],
        [-3, 3, -3, -3],
        [-3, -3, 3, -3],
        [-3, -3, -3, 3],
      ],
    ],
  ] as const) {
    it(`the output distribution equals the target's with ${name} (chi-square on the first two tokens)`, async () => {
      const tgt = target();
      const draft = new BigramLM(
        cpu,
        draftRows.map((r) => [...r]),
      );
      const n = 400;
      const counts = new Array(16).fill(0);
      let acceptance = 0;
      for (let s = 0; s < n; s++) {
        const r = await speculativeGenerate(tgt, draft, [0], { k: 3, maxNewTokens: 2, seed: s });
        counts[r.ids[0]! * 4 + r.ids[1]!]++;
        acceptance += r.acceptanceRate;
      }
      const rows = (await tgt.table.toArray()) as number[][];
      const p = softmaxRow(Float32Array.from(rows[0]!));
      const joint = Array.from(
        { length: 16 },
        (_, i) =>
          p[Math.floor(i / 4)]! * softmaxRow(Float32Array.from(rows[Math.floor(i / 4)]!))[i % 4]!,
      );
      const { stat, dof } = chiSquare(counts, joint, n);
      expect(stat).toBeLessThan(CHI2_999[dof]!);
      if (name === 'a deliberately bad draft') expect(acceptance / n).toBeLessThan(0.5);
      else expect(acceptance / n).toBeGreaterThan(0.7);
    });
  }
});

describe.each(all)('speculative decoding with KV caches ($info.backend)', (dev) => {
  it('at temperature 0 gives exactly the target greedy tokens, through rejections and roll-backs', async () => {
    const target = new TrigramLM(dev, 6);
    const draft = new TrigramLM(dev, 6, { seed: 1 }); // other tables: rejections happen
    const greedy: number[] = [];
    for await (const id of generate(target, [1, 2], { temperature: 0, maxNewTokens: 24 }))
      greedy.push(id);
    const r = await speculativeGenerate(target, draft, [1, 2], {
      k: 3,
      maxNewTokens: 24,
      temperature: 0,
    });
    expect(r.ids).toEqual(greedy);
    expect(r.targetCalls).toBeLessThan(24);
    expect(r.acceptanceRate).toBeLessThan(1); // some proposals were rejected and rolled back
    expect([...target.caches, ...draft.caches].every((c) => c.disposed)).toBe(true);
  });

  it('keeps to the model window when the prompt and proposals pass it', async () => {
    const target = new TrigramLM(dev, 6, { maxSequenceLength: 16 });
    const draft = new TrigramLM(dev, 6, { seed: 2, maxSequenceLength: 16 });
    const prompt = Array.from({ length: 14 }, (_, i) => i % 6);
    const r = await speculativeGenerate(target, draft, prompt, { k: 4, maxNewTokens: 20, seed: 3 });
    expect(r.ids).toHaveLength(20);
  });
});
