import { describe, expect, it } from 'vitest';
import type { History } from '../loop.js';
import { writeCheckpoint } from '../run-folder.js';
import { tempDir } from '../test-utils/fixtures.js';
import {
  atEvaluations,
  formatBytes,
  openSource,
  openStage,
  perStep,
  resolveSettings,
} from './stage.js';

const flags = { steps: '--steps', loss: '--loss' };

describe('tuning stages', () => {
  it('settings: flags over the recipe on a fresh run; the checkpoint’s on a resume, where a different flag is an error', () => {
    const defaults = { steps: 100, loss: 'sigmoid' };
    expect(resolveSettings({ steps: 5 }, defaults, flags)).toEqual({ steps: 5, loss: 'sigmoid' });
    const saved = { settings: { steps: 5, loss: 'ipo' }, stateFile: 'run/tessera.json' };
    expect(resolveSettings({}, defaults, flags, saved)).toEqual({ steps: 5, loss: 'ipo' });
    expect(resolveSettings({ steps: 5 }, defaults, flags, saved)).toEqual({
      steps: 5,
      loss: 'ipo',
    });
    expect(() => resolveSettings({ loss: 'hinge' }, defaults, flags, saved)).toThrow(
      '--loss "hinge" conflicts with the checkpoint, which was started with "ipo" (run/tessera.json field "settings.loss"); leave --loss out to resume, or pass --force to start over',
    );
    // A checkpoint older than a setting: the flag, else the default.
    const older = { settings: { steps: 5 }, stateFile: 'run/tessera.json' };
    expect(resolveSettings({}, defaults, flags, older)).toEqual({ steps: 5, loss: 'sigmoid' });
    expect(resolveSettings({ loss: 'ipo' }, defaults, flags, older)).toEqual({
      steps: 5,
      loss: 'ipo',
    });
  });

  it('a source is a run folder with a checkpoint; its preset names the recipe', () => {
    const dir = tempDir();
    expect(() => openSource('--from', dir)).toThrow(
      new RegExp(`^--from ${dir}: .*run\\.json: is missing`),
    );
    writeCheckpoint(
      dir,
      { 'model.safetensors': 'weights' },
      { step: 3, totalSteps: 3, preset: { name: 'tiny' } },
    );
    const s = openSource('--from', dir);
    expect(s.recipe).toBe('tiny');
    expect(s.ref).toMatchObject({ path: dir, stage: 'pretrain', step: 3 });
    expect(s.ref.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a resume refuses another stage’s folder and a source whose weights changed', () => {
    const source = tempDir();
    writeCheckpoint(
      source,
      { 'model.safetensors': 'a' },
      { step: 1, totalSteps: 1, preset: { name: 'tiny' } },
    );
    const ref = openSource('--from', source).ref;
    const out = tempDir();
    const state = {
      stage: 'sft',
      step: 0,
      totalSteps: 2,
      sources: { from: ref },
      history: { trainLoss: [], val: [] },
      metrics: [],
    };
    writeCheckpoint(out, {}, state);
    expect(openStage('sft', { out, resume: true }, { from: ref })?.state.step).toBe(0);
    expect(() => openStage('dpo', { out, resume: true }, { from: ref })).toThrow(
      /field "stage" is "sft", expected "dpo"/,
    );
    writeCheckpoint(
      source,
      { 'model.safetensors': 'b' },
      { step: 2, totalSteps: 2, preset: { name: 'tiny' } },
    );
    expect(() =>
      openStage('sft', { out, resume: true }, { from: openSource('--from', source).ref }),
    ).toThrow(
      /its checkpoint \(step 2, model SHA-256 .*\) is not the one this run started from .*field "sources\.from": .* step 1/,
    );
    expect(() => openStage('sft', { out }, { from: ref })).toThrow(
      /pass --resume to continue it or --force/,
    );
  });

  it('curves come from the per-step metrics and the evaluations', () => {
    expect(perStep([{ loss: 3, kl: 1 }, { loss: 2 }], 'kl')).toEqual([[1, 1]]);
    expect(perStep([{ loss: 3 }, { loss: 2 }], 'loss')).toEqual([
      [1, 3],
      [2, 2],
    ]);
    const history: History = {
      trainLoss: [],
      val: [
        { step: 0, loss: 1, accuracy: 0 },
        { step: 4, loss: 0.5 },
      ],
    };
    expect(atEvaluations(history, 'accuracy')).toEqual([[0, 0]]);
    expect(formatBytes(3 * 2 ** 20)).toBe('3.0 MiB');
    expect(formatBytes(2 ** 31)).toBe('2.00 GiB');
  });
});
