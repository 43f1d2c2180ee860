import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { asLanguageModel } from '../language-model.js';
import { loadCheckpoint } from '../load.js';
import { microRun } from '../test-utils/checkpoints.js';
import { stubJudge } from '../test-utils/judge-endpoint.js';
import {
  callChatModel,
  callId,
  callLanguageModel,
  checkpointWeights,
  localCalls,
  type ModelCall,
} from './calls.js';

const { cpu } = await testDevices();
const dir = await microRun(cpu);

describe('evaluation calls', () => {
  it('callId is the same for equal calls and differs for any other', () => {
    const call: ModelCall & { kind: 'generate' } = {
      kind: 'generate',
      checkpoint: dir,
      weights: checkpointWeights(dir),
      prompt: 'A',
      maxTokens: 4,
      stop: [],
    };
    expect(callId({ ...call })).toBe(callId(call));
    expect(callId({ ...call, maxTokens: 5 })).not.toBe(callId(call));
    expect(callId({ ...call, checkpoint: `${dir}/` })).not.toBe(callId(call));
    expect(callId({ ...call, weights: '0'.repeat(64) })).not.toBe(callId(call));
    expect(callId(call)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('localCalls runs model calls as asLanguageModel does, and judge calls at the endpoint', async () => {
    const { model, tokenizer } = loadCheckpoint(dir, cpu);
    const direct = asLanguageModel(model, tokenizer, dir);
    const calls = localCalls(cpu);
    const lm = callLanguageModel(calls, dir);
    const judge = await stubJudge();
    try {
      // Asked all at once, answered as if one after another.
      const [ll, text, verdict] = await Promise.all([
        lm.logLikelihood('ROMEO:', ' my lord'),
        lm.generate('JULIET:', { maxTokens: 8, stop: ['\n'] }),
        callChatModel(calls, judge.url, 'stub').chat([
          { role: 'user', content: 'Answer 1: long one\n\nAnswer 2: short' },
        ]),
      ]);
      expect(ll).toBe(await direct.logLikelihood('ROMEO:', ' my lord'));
      expect(text).toBe(await direct.generate('JULIET:', { maxTokens: 8, stop: ['\n'] }));
      expect(ll).toBeLessThan(0);
      expect(verdict).toBe('The longer answer shows more work.\nWINNER: 1');
      expect(lm.id).toBe(dir);
    } finally {
      await calls.close();
      model.dispose();
      await judge.close();
    }
  });

  it('a call that fails rejects alone; the calls after it still run', async () => {
    const calls = localCalls(cpu);
    const lm = callLanguageModel(calls, dir);
    try {
      await expect(lm.logLikelihood('ROMEO:', '')).rejects.toThrow(
        'logLikelihood: continuation "" has no tokens',
      );
      expect(await lm.logLikelihood('ROMEO:', ' my')).toBeLessThan(0);
      await expect(
        callLanguageModel(calls, `${dir}-missing`).generate('A', { maxTokens: 1, stop: [] }),
      ).rejects.toThrow(`${dir}-missing`);
      // A checkpoint retrained since the evaluation began is refused, not answered with new weights.
      const stale = '0'.repeat(64);
      await expect(
        calls.run({
          kind: 'generate',
          checkpoint: dir,
          weights: stale,
          prompt: 'A',
          maxTokens: 1,
          stop: [],
        }),
      ).rejects.toThrow(
        `${dir}: holds the weights ${checkpointWeights(dir).slice(0, 12)}, not the 000000000000 the evaluation began with (retrained since?); run the evaluation again`,
      );
    } finally {
      await calls.close();
    }
  });
});
