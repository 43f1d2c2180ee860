import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { complete, loadCheckpoint } from './load.js';
import { pretrain } from './pretrain.js';
import { FILES, readCheckpoint } from './run-folder.js';
import { overflowingCopy } from './test-utils/checkpoints.js';
import { data, micro, tempDir } from './test-utils/fixtures.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

describe('loadCheckpoint', () => {
  it('streams a completion from a checkpoint; a corrupt or missing file is an error naming it', async () => {
    const dir = tempDir();
    await pretrain({ preset: micro, out: dir, steps: 2, data, device, sink: { write: () => {} } });
    // Finite weights whose forward pass overflows: the app's error, not the sampler's.
    const overflowing = await overflowingCopy(dir);
    for (const temperature of [0, 0.8])
      await expect(
        complete(overflowing, 'ROMEO:', { device, maxNewTokens: 2, temperature }),
      ).rejects.toThrow(
        new RegExp(
          `^${overflowing}: the model produced non-finite logits \\(the checkpoint's weights overflow\\?\\): NaN at token \\d+ while generating`,
        ),
      );
    // A checkpoint of a stage whose model is not left to right (same weight names) is refused.
    for (const [stage, what] of [
      ['dllm', /a masked diffusion LM \(use dllm generate/],
      ['reward', /a reward model/],
    ] as const) {
      const copy = tempDir();
      cpSync(dir, copy, { recursive: true });
      const { stateFile } = readCheckpoint(copy);
      const state = JSON.parse(readFileSync(stateFile, 'utf8'));
      writeFileSync(stateFile, JSON.stringify({ ...state, stage }));
      expect(() => loadCheckpoint(copy, device)).toThrow(
        new RegExp(
          `^${stateFile}: field "stage" is "${stage}": the checkpoint holds ${what.source}`,
        ),
      );
    }
    let streamed = '';
    const text = await complete(dir, 'ROMEO:', {
      device,
      maxNewTokens: 10,
      temperature: 0,
      onText: (s) => (streamed += s),
    });
    expect(text.length).toBeGreaterThan(0);
    expect(streamed).toBe(text);
    const { folder } = readCheckpoint(dir);
    writeFileSync(join(folder, FILES.model), new Uint8Array([1, 2, 3]));
    expect(() => loadCheckpoint(dir, device)).toThrow(
      new RegExp(`^${join(folder, FILES.model)}: is not the file saved with this checkpoint`),
    );
    writeFileSync(join(folder, FILES.state), '{"model": ');
    expect(() => loadCheckpoint(dir, device)).toThrow(`${join(folder, FILES.state)}: is corrupt`);
    expect(() => loadCheckpoint(join(dir, 'nope'), device)).toThrow(/nope\/run\.json: is missing/);
  });
});
