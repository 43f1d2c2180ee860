import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { pretrain } from '../pretrain.js';
import { data, micro, tempDir } from '../test-utils/fixtures.js';
import { PIPELINE_STAGES, stageState } from './stages.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const quiet = { write: () => {} };

describe('stageState', () => {
  it('is empty without a checkpoint, partial short of the last step or the report, else complete', async () => {
    const out = tempDir();
    expect(stageState(out)).toBe('empty');
    expect(stageState(join(out, 'missing'))).toBe('empty');
    const stop: { reason?: 'SIGINT' } = {};
    const sink = {
      write: (t: string) => {
        if (t.includes(' 1/2')) stop.reason = 'SIGINT'; // after the first step: saved, stopped
      },
    };
    await pretrain({ preset: micro, out, steps: 2, data, device, sink, stop });
    expect(stageState(out)).toBe('partial');
    await pretrain({ out, resume: true, device, sink: quiet });
    expect(stageState(out)).toBe('complete');
    rmSync(join(out, 'report.json'));
    expect(stageState(out)).toBe('partial');
  });
});

describe('PIPELINE_STAGES', () => {
  it('lists the stages in order, each starting from stages before it', () => {
    expect(PIPELINE_STAGES.map((s) => s.name)).toEqual([
      'pretrain',
      'sft',
      'reward',
      'dpo',
      'ppo',
      'grpo',
    ]);
    PIPELINE_STAGES.forEach((stage, i) => {
      const before = PIPELINE_STAGES.slice(0, i).map((s) => s.name);
      for (const need of stage.needs) expect(before).toContain(need);
    });
  });
});
