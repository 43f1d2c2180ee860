import { processLogits, processorChain, sampleOnDevice, softmaxRow } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { CHI2_999, chiSquare } from './test-utils/toy-models.js';

const { all } = await testDevices();

describe('sampling on the device', () => {
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
      expect(() =>
        sampleOnDevice(T.tensor([row], { device: dev }), [[]], { sed: 1 } as never),
      ).toThrow(/sampleOnDevice: unknown option "sed"/);
    },
  );
});
