import { testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { expertLoadSvg } from './expert-load.js';
import { moeReport } from './moe-report.js';

const { cpu } = await testDevices();

describe('moeReport', () => {
  it("reports the active parameters, each layer's final max load, and the two pictures", () => {
    const model = new DecoderLM(
      {
        vocabSize: 40,
        dModel: 16,
        layers: 2,
        heads: 2,
        maxSeqLen: 16,
        ffn: 'moe',
        moe: { experts: 4, topK: 1, hidden: 8 },
      },
      cpu,
    );
    const load = {
      steps: [1, 2],
      load: {
        'model.layers.0.mlp': [
          [4, 0, 0, 0],
          [1.5, 0.5, 1, 1],
        ],
        'model.layers.1.mlp': [
          [1, 1, 1, 1],
          [2, 2, 0, 0],
        ],
      },
    };
    const sentence = {
      tokens: ['a', 'b'],
      experts: { 'model.layers.0.mlp': [[1], [3]], 'model.layers.1.mlp': [[0], [2]] },
    };
    const r = moeReport(model, { load, sentence });
    expect(r.facts).toEqual([
      ['active parameters per token', String(model.activeParameters())],
      ['expert load at the end (max / mean, per layer)', '1.50, 2.00'],
    ]);
    expect(model.activeParameters()).toBeLessThan(model.numParameters());
    expect(r.summary).toEqual({
      activeParameters: model.activeParameters(),
      finalMaxLoad: { 'model.layers.0.mlp': 1.5, 'model.layers.1.mlp': 2 },
    });
    expect(r.figures.map((f) => f.file)).toEqual(['expert-load.svg', 'routing.svg']);
    expect(r.figures[0]!.svg).toBe(
      expertLoadSvg(load, 'expert load over training: assignments / mean, per layer'),
    );
    expect(r.figures[1]!.svg).toContain('token → expert routing: &quot;ab&quot;');
  });

  it('adds the dropped share of each layer when the model has a capacity factor', () => {
    const model = new DecoderLM(
      {
        vocabSize: 40,
        dModel: 16,
        layers: 1,
        heads: 2,
        maxSeqLen: 16,
        ffn: 'moe',
        moe: { experts: 4, topK: 1, hidden: 8, capacityFactor: 1.25 },
      },
      cpu,
    );
    const layer = 'model.layers.0.mlp';
    const load = {
      steps: [1, 2],
      load: {
        [layer]: [
          [1, 1, 1, 1],
          [2, 2, 0, 0],
        ],
      },
      dropped: { [layer]: [0.5, 0.125] },
    };
    const r = moeReport(model, { load, sentence: { tokens: ['a'], experts: { [layer]: [[0]] } } });
    expect(r.facts.at(-1)).toEqual([
      'assignments dropped at the end (capacity factor 1.25, per layer)',
      '12.5%',
    ]);
    expect(r.summary).toMatchObject({
      capacityFactor: 1.25,
      finalDroppedShare: { [layer]: 0.125 },
    });
  });
});
