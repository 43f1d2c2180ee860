import { testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import {
  basePresetName,
  moePreset,
  moePresetName,
  PRESETS,
  parseMoE,
  presetBudget,
  presetParameters,
  scalingTable,
} from './presets.js';

const { cpu } = await testDevices();
const built = (p: (typeof PRESETS)[string]) =>
  new DecoderLM({ ...p.model, vocabSize: p.vocabSize }, cpu);

describe('presets', () => {
  it('follow the Chinchilla rule and the scaling table lists them', () => {
    for (const p of Object.values(PRESETS)) {
      const b = presetBudget(p);
      expect(b.tokens).toBe(20 * b.params);
      expect(b.flops).toBe(6 * b.params * b.tokens);
    }
    const table = scalingTable();
    for (const name of Object.keys(PRESETS)) expect(table).toContain(`| ${name} |`);
  });

  it('count the parameters of the model they build, total and active', () => {
    const tiny = PRESETS.tiny!;
    for (const p of [tiny, moePreset(tiny, { experts: 8, topK: 2, sharedExperts: 1 })]) {
      const lm = built(p);
      expect(presetParameters(p)).toEqual({
        total: lm.numParameters(),
        active: lm.activeParameters(),
      });
    }
  });

  it('give MoE variants the dense active size per token: k·h + s·h = H, plus the router', () => {
    const tiny = PRESETS.tiny!; // dModel 48, 2 layers, SwiGLU width 128
    const moe = moePreset(tiny, { experts: 8, topK: 2 });
    expect(moe.name).toBe('tiny-moe8x2');
    expect(moe.model).toMatchObject({ ffn: 'moe', moe: { experts: 8, topK: 2, hidden: 64 } });
    const [dense, sparse] = [presetParameters(tiny), presetParameters(moe)];
    expect(sparse.active - dense.active).toBe(2 * 8 * 48); // the routers
    expect(sparse.total - sparse.active).toBe(2 * 6 * 3 * 48 * 64); // 6 idle experts a layer
    // The Chinchilla budget counts active parameters: the routers add 1.1% here.
    expect(presetBudget(moe).tokens).toBe(20 * sparse.active);
    expect(sparse.active / dense.active).toBeCloseTo(1 + 768 / 69_360, 12);
    const free = moePreset(tiny, { experts: 4, topK: 1, sharedExperts: 1, balance: 'aux-free' });
    expect(free.name).toBe('tiny-moe4x1s1-auxfree');
    expect(free.model.moe).toEqual({
      experts: 4,
      topK: 1,
      hidden: 64,
      sharedExperts: 1,
      biasUpdateRate: 0.005,
    });
    expect(() => moePreset(tiny, { experts: 2, topK: 3 })).toThrow(
      'moePreset: top-k must be an integer in [1, experts = 2], got 3',
    );
    expect(() => moePreset(moe, { experts: 2, topK: 1 })).toThrow(
      /not a dense SwiGLU model \(ffn moe\)/,
    );
  });

  it('name MoE variants after their base preset, and basePresetName inverts that', () => {
    for (const m of [
      { experts: 8, topK: 2 },
      { experts: 4, topK: 1, sharedExperts: 1, balance: 'aux-free' as const },
    ]) {
      const name = moePresetName('small', m);
      expect(name).toMatch(/^small-moe/);
      expect(basePresetName(name)).toBe('small');
    }
    expect(basePresetName('tiny')).toBe('tiny');
    expect(basePresetName('my-moe-model')).toBe('my-moe-model');
  });

  it('parse --moe EXPERTSxTOPK', () => {
    expect(parseMoE('8x2')).toEqual({ experts: 8, topK: 2 });
    expect(() => parseMoE('2x3')).toThrow(
      '--moe must be EXPERTSxTOPK with 1 <= TOPK <= EXPERTS (e.g. 8x2), got "2x3"',
    );
    expect(() => parseMoE('eight')).toThrow(/got "eight"/);
  });
});
