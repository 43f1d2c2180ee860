import * as T from '@tessera/tensor-webgpu';
import { DecoderLM } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../presets.js';
import { runCommand } from '../test-utils/commands.js';
import { scalingCommand } from './scaling.js';

describe('scaling, the command', () => {
  it("prints a row per preset whose parameter count is the built model's and whose steps follow 20 tokens per parameter", async () => {
    const out = await runCommand(scalingCommand, []);
    const rows = out.trim().split('\n');
    expect(rows[0]).toBe(
      '| preset | shape | parameters N | tokens D = 20·N | steps | 6·N·D FLOPs | for |',
    );
    expect(rows.slice(2).map((r) => r.split(' | ')[0])).toEqual(
      Object.keys(PRESETS).map((name) => `| ${name}`),
    );
    const tiny = PRESETS.tiny!;
    const model = new DecoderLM(
      { ...tiny.model, vocabSize: tiny.vocabSize },
      await T.createDevice({ backend: 'cpu' }),
    );
    const n = model.numParameters();
    const [, shape, params, , steps] = rows[2]!.split(' | ');
    expect(shape).toBe(`${tiny.model.layers}×${tiny.model.dModel}, ${tiny.model.heads} heads`);
    expect(Number.parseFloat(params!) * 1e3).toBeCloseTo(n, -2); // "83.5k": to the printed digit
    expect(Number(steps)).toBe(Math.ceil((20 * n) / (tiny.batchSize * tiny.seqLen)));
    await expect(runCommand(scalingCommand, ['--extra'])).rejects.toThrow(
      "error: unknown option '--extra'",
    );
  });
});
