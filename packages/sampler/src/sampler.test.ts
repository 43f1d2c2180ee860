import {
  beamSearch,
  type CausalLM,
  generate,
  generateText,
  processLogits,
  processorChain,
  sampleIndex,
  sampleOnDevice,
  softmaxRow,
  speculativeGenerate,
} from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { type Device, Rng, type Tensor } from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, gpu, cpu } = await testDevices();
const NEG = Number.NEGATIVE_INFINITY;
const run = (logits: number[], o: Parameters<typeof processorChain>[0], ids: number[] = []) =>
  Array.from(processLogits(Float32Array.from(logits), { ids, step: 0 }, processorChain(o)));

/** A toy CausalLM: the next-token logits are a row of a table picked by the last token. */
class BigramLM implements CausalLM {
  readonly table: Tensor;
  forwards = 0;
  constructor(
    readonly device: Device,
    rows: number[][],
  ) {
    this.table = T.tensor(rows, { device });
  }
  get vocabSize(): number {
    return this.table.shape[1]!;
  }
  forward(ids: Tensor): Tensor {
    this.forwards++;
    return T.embedding(this.table, ids);
  }
}

/** Pearson's chi-square statistic of observed counts against expected probabilities. */
function chiSquare(
  counts: number[],
  probs: ArrayLike<number>,
  n: number,
): { stat: number; dof: number } {
  let stat = 0;
  let dof = -1;
  for (let i = 0; i < counts.length; i++) {
    const e = probs[i]! * n;
    if (e > 0) {
      stat += (counts[i]! - e) ** 2 / e;
      dof++;
    } else expect(counts[i]).toBe(0);
  }
  return { stat, dof };
}
// 99.9th percentile of chi-square for small degrees of freedom (a fixed seed makes this deterministic).
const CHI2_999: Record<number, number> = {
  1: 10.83,
  2: 13.82,
  3: 16.27,
  4: 18.47,
  5: 20.52,
  6: 22.46,
  7: 24.32,
};

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
  });
});

describe('sampling statistics', () => {
  it('sampled frequencies match the processed distribution (chi-square)', () => {
    const logits = Float32Array.from([1, 0.5, 2, -1, 0, 1.5]);
    const processed = processLogits(
      logits,
      { ids: [], step: 0 },
      processorChain({ temperature: 0.8, topK: 5 }),
    );
    const p = softmaxRow(processed);
    const rng = new Rng(1234);
    const n = 20000;
    const counts = new Array(6).fill(0);
    for (let i = 0; i < n; i++) counts[sampleIndex(p, rng)]++;
    const { stat, dof } = chiSquare(counts, p, n);
    expect(stat).toBeLessThan(CHI2_999[dof]!);
  });

  it.each(all)(
    'device sampling (Gumbel-max, bisection top-p) matches the CPU chain in distribution ($info.backend)',
    async (dev) => {
      const row = [1, 0.5, 2, -1, 0, 1.5, 0.2, -0.5];
      const o = { temperature: 0.9, topP: 0.8, repetitionPenalty: 1.3 };
      const seen = [2, 5];
      const p = softmaxRow(
        processLogits(Float32Array.from(row), { ids: seen, step: 0 }, processorChain(o)),
      );
      const n = 600;
      const batch = 50;
      const counts = new Array(row.length).fill(0);
      const logits = T.tensor(
        Array.from({ length: batch }, () => row),
        { device: dev },
      );
      for (let s = 0; s < n / batch; s++) {
        const ids = await sampleOnDevice(
          logits,
          Array.from({ length: batch }, () => seen),
          { ...o, seed: s },
        ).data();
        for (const id of ids) counts[id]++;
      }
      const { stat, dof } = chiSquare(counts, p, n);
      expect(stat).toBeLessThan(CHI2_999[dof]!);
      expect(
        Array.from(
          await sampleOnDevice(
            logits,
            Array.from({ length: batch }, () => seen),
            { temperature: 0 },
          ).data(),
        ).every((v) => v === 2),
      ).toBe(true);
    },
  );

  it.each(all)(
    'device typical-p, min-p, top-k and bans keep the same tokens as the CPU chain ($info.backend)',
    async (dev) => {
      const row = [0.4, 0.3, 0.2, 0.1].map(Math.log);
      const cases = [
        { typicalP: 0.5 },
        { minP: 0.4 },
        { topK: 3, bannedTokens: [0] },
        { topP: 0.6 },
      ];
      for (const o of cases) {
        const keep = processLogits(
          Float32Array.from(row),
          { ids: [], step: 0 },
          processorChain(o),
        ).map((v) => (Number.isFinite(v) ? 1 : 0));
        const seenIds = new Set<number>();
        for (let s = 0; s < 40; s++)
          for (const id of await sampleOnDevice(T.tensor([row], { device: dev }), [[]], {
            ...o,
            seed: s,
          }).data())
            seenIds.add(id);
        for (const id of seenIds) expect(keep[id]).toBe(1);
        expect(seenIds.size).toBe(keep.reduce((a, b) => a + b, 0));
      }
      const forced = await sampleOnDevice(T.tensor([row], { device: dev }), [[]], {
        forcedToken: (step) => (step === 3 ? 1 : undefined),
        step: 3,
      }).data();
      expect(Array.from(forced)).toEqual([1]);
    },
  );
});

describe('generate', () => {
  const table = (dev: Device) =>
    new BigramLM(dev, [
      [0, 3, 1, 0],
      [0, 0, 3, 1],
      [0, 0, 0, 3],
      [3, 0, 0, 0],
    ]);

  it.each(all)(
    'greedy follows the argmax chain; stop ids end it; seeds reproduce ($info.backend)',
    async (dev) => {
      const lm = table(dev);
      const ids: number[] = [];
      for await (const id of generate(lm, [0], { temperature: 0, maxNewTokens: 6 })) ids.push(id);
      expect(ids).toEqual([1, 2, 3, 0, 1, 2]);
      const stopped: number[] = [];
      for await (const id of generate(lm, [0], {
        temperature: 0,
        maxNewTokens: 6,
        stopTokenIds: [3],
      }))
        stopped.push(id);
      expect(stopped).toEqual([1, 2, 3]);
      const sample = async (seed: number) => {
        const out: number[] = [];
        for await (const id of generate(lm, [0], { seed, maxNewTokens: 12 })) out.push(id);
        return out;
      };
      expect(await sample(7)).toEqual(await sample(7));
    },
  );

  it('stop sequences match across token boundaries and are cut from the text', async () => {
    const lm = table(cpu);
    const letters = ['a', 'b', 'c', 'd'];
    const codec = {
      encode: (s: string) => Array.from(s, (c) => letters.indexOf(c)),
      decode: (ids: Iterable<number>) => Array.from(ids, (i) => letters[i]).join(''),
    };
    // Greedy from "a": b c d a b c ...; "da" spans two tokens.
    expect(
      await generateText(lm, codec, 'a', {
        temperature: 0,
        maxNewTokens: 20,
        stopSequences: ['da'],
      }),
    ).toBe('bc');
  });

  it('refuses an empty prompt and out-of-vocabulary ids', async () => {
    const lm = table(cpu);
    await expect(generate(lm, []).next()).rejects.toThrow(/the prompt is empty/);
    await expect(generate(lm, [9]).next()).rejects.toThrow(
      /prompt id 9 is outside the vocabulary \(0\.\.3\)/,
    );
  });

  it('beam search finds a better sequence than greedy, with length penalty', async () => {
    // Greedy from 0 takes 1 (p≈.6) then a flat row; 2 (p≈.4) leads to a near-certain token.
    const lm = new BigramLM(cpu, [
      [NEG, Math.log(0.6), Math.log(0.4), NEG],
      [Math.log(0.34), Math.log(0.33), Math.log(0.33), NEG],
      [NEG, NEG, NEG, 0],
      [NEG, NEG, NEG, 0],
    ]);
    const [best] = await beamSearch(lm, [0], { numBeams: 2, maxNewTokens: 2 });
    expect(best!.ids).toEqual([2, 3]);
    expect(best!.logprob).toBeCloseTo(Math.log(0.4), 5);
    const greedy: number[] = [];
    for await (const id of generate(lm, [0], { temperature: 0, maxNewTokens: 2 })) greedy.push(id);
    expect(greedy[0]).toBe(1);
  });
});

describe('speculative decoding', () => {
  const target = () =>
    new BigramLM(gpu ?? cpu, [
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
        gpu ?? cpu,
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
      expect(stat).toBeLessThan(dof <= 7 ? CHI2_999[dof]! : 37.7); // 15 dof: 37.70
      if (name === 'a deliberately bad draft') expect(acceptance / n).toBeLessThan(0.5);
      else expect(acceptance / n).toBeGreaterThan(0.7);
    });
  }
});
