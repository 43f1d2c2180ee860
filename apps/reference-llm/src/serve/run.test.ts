import { trainBpe } from '@tessera/tokenizer';
import { describe, expect, it } from 'vitest';
import { shakespeare } from '../test-utils/fixtures.js';
import { scriptedServed } from '../test-utils/scripted-lm.js';
import { ServerMetrics } from './metrics.js';
import { startRun } from './run.js';

const tokenizer = trainBpe([shakespeare(20_000)], { vocabSize: 300 });
const prompt = tokenizer.encode('ROMEO:');
const spec = { prompt, maxTokens: 6, sampling: { temperature: 0, seed: 0 }, stop: [] };

describe('startRun', () => {
  it("runs a request's choices and records tokens and latencies", async () => {
    const model = await scriptedServed(tokenizer, prompt, ' Good morrow, cousin.');
    const metrics = new ServerMetrics();
    const deltas: string[] = [];
    const run = startRun(model, [spec, spec], {
      arrived: performance.now(),
      timeoutMs: 60_000,
      metrics,
      onDelta: (i, d) => i === 1 && deltas.push(d),
    });
    const results = await run.results;
    expect(results.map((r) => r.finishReason)).toEqual(['length', 'length']);
    expect(deltas.join('')).toBe(results[1]!.text);
    const text = await metrics.registry.metrics();
    expect(text).toContain(`tessera_prompt_tokens_total{model="scripted"} ${2 * prompt.length}\n`);
    expect(text).toContain('tessera_generation_tokens_total{model="scripted"} 12\n');
    expect(text).toContain('tessera_time_to_first_token_seconds_count{model="scripted"} 2\n');
    expect(text).toContain('tessera_inter_token_latency_seconds_count{model="scripted"} 10\n');
    await model.engine.close();
  });

  it('a choice the queue refuses fails the request with 429 and withdraws the choices already queued', async () => {
    const model = await scriptedServed(tokenizer, prompt, ' Good morrow.', {
      maxBatch: 1,
      maxQueue: 0,
    });
    const run = () =>
      startRun(model, [spec, spec], {
        arrived: performance.now(),
        timeoutMs: 60_000,
        metrics: new ServerMetrics(),
      });
    expect(run).toThrow(
      expect.objectContaining({ status: 429, code: 'queue_full', headers: { 'retry-after': '1' } }),
    );
    expect(model.engine.stats()).toMatchObject({ queued: 0, active: 0 });
    const timed = startRun(model, [spec], {
      arrived: performance.now() - 10_000,
      timeoutMs: 1,
      metrics: new ServerMetrics(),
    });
    expect((await timed.results)[0]!.ended).toBe('timeout');
    await model.engine.close();
  });
});
