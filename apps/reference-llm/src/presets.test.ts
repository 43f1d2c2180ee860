import { describe, expect, it } from 'vitest';
import { PRESETS, presetBudget, scalingTable } from './presets.js';

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
});
