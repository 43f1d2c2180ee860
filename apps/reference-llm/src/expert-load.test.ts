import { MoE } from '@tessera/moe';
import { Module } from '@tessera/nn';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import {
  type ExpertLoadHistory,
  ExpertLoadRecorder,
  escapeXml,
  expertLoadSvg,
  finalDroppedShare,
  finalMaxLoad,
  loadColour,
} from './expert-load.js';

const { cpu } = await testDevices();

class OneLayer extends Module {
  mlp = new MoE({ dim: 4, hidden: 6, experts: 3, topK: 1, seed: 1, device: cpu });
}

describe('ExpertLoadRecorder', () => {
  it("reads each layer's load over the mean every few steps, and the rest when asked", async () => {
    const model = new OneLayer();
    const recorder = new ExpertLoadRecorder(model, 10, undefined, 4); // 10 steps, 4 columns: every 3
    expect(recorder.every).toBe(3);
    const x = T.randn([6, 4], { seed: 2, device: cpu });
    let counts = [0, 0, 0];
    for (let step = 1; step <= 4; step++) {
      const chosen = (await model.mlp.gate.route(x).indices.toArray()) as number[][];
      model.mlp.forward(x);
      if (step <= 3) for (const [e] of chosen) counts[e!]! += 1;
      await recorder.afterStep(step);
      if (step === 3) {
        const mean = 18 / 3;
        expect(recorder.history.load.mlp).toEqual([counts.map((n) => n / mean)]);
        counts = [0, 0, 0];
      }
    }
    expect(recorder.history.steps).toEqual([3]);
    await recorder.read(4);
    await recorder.read(4); // nothing new since step 4
    expect(recorder.history.steps).toEqual([3, 4]);
    expect(recorder.history.load.mlp![1]!.reduce((a, b) => a + b, 0)).toBeCloseTo(3, 6);
    expect(recorder.history.dropped).toEqual({ mlp: [0, 0] }); // dropless
  });

  it('records the share of assignments a capacity factor drops', async () => {
    const model = new (class extends Module {
      mlp = new MoE({
        dim: 4,
        hidden: 6,
        experts: 3,
        topK: 1,
        seed: 1,
        device: cpu,
        capacityFactor: 0.5,
      });
    })();
    const recorder = new ExpertLoadRecorder(model, 1);
    const x = T.randn([6, 4], { seed: 2, device: cpu });
    const chosen = (await model.mlp.gate.route(x).indices.toArray()) as number[][];
    model.mlp.forward(x);
    await recorder.afterStep(1);
    // Capacity ⌈0.5 · 6 tokens · 1 / 3 experts⌉ = 1: each chosen expert keeps one assignment.
    const kept = new Set(chosen.map(([e]) => e)).size;
    expect(finalDroppedShare(recorder.history)).toEqual({ mlp: (6 - kept) / 6 });
    expect(kept).toBeLessThan(6);
  });

  it('records nothing for a dense model, and continues a saved history', async () => {
    const saved: ExpertLoadHistory = { steps: [2], load: { mlp: [[1, 1, 1]] } };
    const dense = new ExpertLoadRecorder(new (class extends Module {})(), 10, saved);
    await dense.read(5);
    expect(dense.history).toEqual({ steps: [2], load: { mlp: [[1, 1, 1]] } });
    expect(finalDroppedShare(dense.history)).toEqual({}); // recorded before drops were
  });
});

describe('the heat map', () => {
  it('colours load white at 0, blue at 1, red at 2 and beyond', () => {
    expect([loadColour(0), loadColour(1), loadColour(2), loadColour(9)]).toEqual([
      'rgb(255,255,255)',
      'rgb(66,146,198)',
      'rgb(165,15,21)',
      'rgb(165,15,21)',
    ]);
    expect(loadColour(0.5)).toBe('rgb(161,201,227)');
  });

  it('draws a cell per expert and column, per layer, and the final max load', () => {
    const h: ExpertLoadHistory = {
      steps: [5, 10],
      load: {
        'model.layers.0.mlp': [
          [2, 0.5, 0.5],
          [1, 1, 1],
        ],
        'model.layers.1.mlp': [
          [0, 3, 0],
          [1.5, 1.5, 0],
        ],
      },
    };
    const svg = expertLoadSvg(h, 'a <run>');
    expect(svg.match(/<rect x="\d/g)).toHaveLength(2 * 3 * 2 + 41); // cells + legend
    expect(svg).toContain(`fill="${loadColour(2)}"`);
    expect(svg).toContain('a &lt;run&gt;');
    expect(svg).toContain('step 10');
    expect(finalMaxLoad(h)).toEqual({ 'model.layers.0.mlp': 1, 'model.layers.1.mlp': 1.5 });
    expect(escapeXml(`"a" & 'b'`)).toBe('&quot;a&quot; &amp; &apos;b&apos;');
  });
});
