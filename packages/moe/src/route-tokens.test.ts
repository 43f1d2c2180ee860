import { routeTokens } from '@tessera/moe';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { reference } from './test-utils/reference.js';

const { all, cpu } = await testDevices();

/** Random expert choices: k distinct experts per token, as a top-k gives. */
function choices(tokens: number, k: number, experts: number, seed: number): number[] {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  const out: number[] = [];
  for (let t = 0; t < tokens; t++) {
    const picked = new Set<number>();
    // Skewed towards low experts, so capacities bite.
    while (picked.size < k) picked.add(Math.floor(next() ** 2 * experts));
    out.push(...picked);
  }
  return out;
}

async function planOf(dev: T.Device, ids: number[], k: number, experts: number, capacity?: number) {
  const indices = T.tensor(Int32Array.from(ids), { shape: [ids.length / k, k], device: dev });
  const plan = routeTokens(indices, { experts, capacity });
  return {
    counts: Array.from(await plan.counts.data()),
    offsets: Array.from(await plan.offsets.data()),
    slots: Array.from(await plan.slots.data()),
    rows: Array.from(await plan.rows.data()),
  };
}

describe.each(all)('routeTokens ($info.backend)', (dev) => {
  it('counts, keeps the first assignments in choice-major order and permutes them', async () => {
    // 301 tokens × 3 choices: more assignments than the counting workgroup has threads.
    for (const [tokens, k, experts, capacity] of [
      [301, 3, 7, 90],
      [13, 2, 5, undefined],
      [9, 1, 3, 2],
    ] as const) {
      const ids = choices(tokens, k, experts, tokens);
      const { counts, offsets, slots, rows } = await planOf(dev, ids, k, experts, capacity);
      const cap = capacity ?? tokens;
      // Expected, straight from the definition.
      const seen = new Array<number>(experts).fill(0);
      const keptAt: (number | undefined)[] = new Array(tokens * k);
      for (let r = 0; r < k; r++)
        for (let t = 0; t < tokens; t++) {
          const e = ids[t * k + r]!;
          keptAt[t * k + r] = seen[e]! < cap ? seen[e] : undefined;
          seen[e]! += 1;
        }
      expect(counts).toEqual(seen);
      const starts = [0];
      for (const c of seen) starts.push(starts.at(-1)! + Math.min(c, cap));
      expect(offsets).toEqual(starts);
      for (let a = 0; a < tokens * k; a++) {
        const pos = keptAt[a];
        expect(slots[a]).toBe(pos === undefined ? -1 : starts[ids[a]!]! + pos);
        if (pos !== undefined) expect(rows[slots[a]!]).toBe(a);
      }
      expect(rows.slice(starts.at(-1)!).every((r) => r === -1)).toBe(true);
      if (capacity !== undefined) expect(slots.includes(-1)).toBe(true);
    }
  });

  it("matches the PyTorch reference's counts and kept assignments", async () => {
    for (const c of Object.values(reference)) {
      const { counts, offsets } = await planOf(
        dev,
        c.indices.flat(),
        c.config.top_k,
        c.config.experts,
        c.capacity,
      );
      expect(counts).toEqual(c.counts);
      expect(offsets.slice(1).map((o, e) => o - offsets[e]!)).toEqual(c.kept);
    }
  });

  it('equals the CPU reference', async () => {
    if (dev === cpu) return;
    const ids = choices(77, 2, 6, 5);
    expect(await planOf(dev, ids, 2, 6, 20)).toEqual(await planOf(cpu, ids, 2, 6, 20));
  });

  it('raises an expert index out of range, naming it', async () => {
    const indices = T.tensor(Int32Array.from([0, 1, 4, 2]), { shape: [2, 2], device: dev });
    await expect(async () => {
      await routeTokens(indices, { experts: 3 }).slots.data();
    }).rejects.toThrow('routeTokens: index 4 is out of range for a dimension of size 3');
  });

  it('rejects bad arguments', () => {
    const indices = T.tensor(Int32Array.from([0, 1]), { shape: [1, 2], device: dev });
    expect(() => routeTokens(indices, { experts: 0 })).toThrow(
      'routeTokens: experts must be a positive integer, got 0',
    );
    expect(() => routeTokens(indices, { experts: 2, capacity: 1.5 })).toThrow(
      'capacity must be a non-negative integer, got 1.5',
    );
    expect(() => routeTokens(indices, { experts: 2, capcity: 1 } as never)).toThrow(
      'routeTokens: unknown option "capcity"',
    );
    expect(() => routeTokens(T.tensor([[0, 1]], { device: dev }), { experts: 2 })).toThrow(
      'routeTokens: indices must be i32, got f32',
    );
  });
});
