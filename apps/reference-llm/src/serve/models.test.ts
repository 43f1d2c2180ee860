import { join } from 'node:path';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { FILES, readCheckpoint } from '../run-folder.js';
import { microRun, testEngine } from '../test-utils/serve.js';
import { loadServedModel, parseModelSpec } from './models.js';

const { cpu } = await testDevices();

describe('parseModelSpec', () => {
  it('reads NAME=DIR, or names a folder after itself', () => {
    expect(parseModelSpec('tiny=runs/tiny-sft')).toEqual({ name: 'tiny', dir: 'runs/tiny-sft' });
    expect(parseModelSpec('runs/tiny/')).toEqual({ name: 'tiny', dir: 'runs/tiny/' });
    expect(parseModelSpec('a=b=c')).toEqual({ name: 'a', dir: 'b=c' });
    expect(() => parseModelSpec('x=')).toThrow('--model "x=": expected NAME=DIR or DIR');
  });
});

describe('loadServedModel', () => {
  it("loads a run folder's checkpoint with its format, step, weights' SHA-256 and bytes of every token", async () => {
    const dir = await microRun(cpu);
    const m = await loadServedModel({ name: 'micro', dir }, cpu, { ...testEngine, maxBatch: 1 });
    expect(m).toMatchObject({
      name: 'micro',
      dir,
      step: 2,
      weights: readCheckpoint(dir).state.files[FILES.model],
    });
    expect(m.format.name).toBe('plain');
    const eot = m.tokenizer.specialId('<|endoftext|>');
    expect(m.vocabulary[eot]).toBeUndefined();
    expect(m.vocabulary).toHaveLength(m.tokenizer.vocabSize);
    expect(Array.from(m.vocabulary[65]!)).toEqual([65]);
    expect(m.engine.stats().rows).toBe(1);
    await m.engine.close();
    await expect(
      loadServedModel({ name: 'x', dir: join(dir, 'nope') }, cpu, testEngine),
    ).rejects.toThrow(/nope\/run\.json: is missing/);
  });
});
