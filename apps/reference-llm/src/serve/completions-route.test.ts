import { testDevices } from '@tessera/tensor-webgpu/testing';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { listen, servedMicro } from '../test-utils/serve.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const server = await listen([await servedMicro(device)]);
const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
afterAll(() => server.close());

describe('POST /v1/completions', () => {
  it('several prompts and n: choice p·n + j is prompt p with seed + j, alone', async () => {
    const prompts = ['ROMEO:', 'JULIET:\nO'];
    const body = { model: 'micro', max_tokens: 8, temperature: 0.9, seed: 21 };
    const r = await client.completions.create({ ...body, prompt: prompts, n: 2 });
    expect(r.object).toBe('text_completion');
    expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    for (const [p, prompt] of prompts.entries())
      for (const j of [0, 1]) {
        const one = await client.completions.create({ ...body, prompt, seed: 21 + j });
        expect(r.choices[p * 2 + j]!.text).toBe(one.choices[0]!.text);
      }
    const promptTokens = prompts.map((p) => p.length).length;
    expect(r.usage!.prompt_tokens).toBeGreaterThanOrEqual(promptTokens);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
  });

  it('16 tokens by default; logprobs in the legacy shape, with text offsets', async () => {
    const r = await client.completions.create({
      model: 'micro',
      prompt: 'To be',
      temperature: 0,
      logprobs: 2,
    });
    expect(r.usage!.completion_tokens).toBeLessThanOrEqual(16);
    const lp = r.choices[0]!.logprobs!;
    expect(lp.tokens).toHaveLength(r.usage!.completion_tokens);
    expect(lp.token_logprobs!.every((x) => x <= 0)).toBe(true);
    expect(lp.top_logprobs!.every((t) => Object.keys(t).length <= 2)).toBe(true);
    const offsets = lp.text_offset!;
    expect(offsets[0]).toBe(0);
    for (let i = 1; i < offsets.length; i++)
      expect(offsets[i]).toBe(offsets[i - 1]! + lp.tokens![i - 1]!.length);
  });

  it('streams the text it returns whole; an empty prompt starts from the end-of-text token', async () => {
    const body = { model: 'micro', prompt: 'KING:', max_tokens: 12, seed: 2 };
    const whole = await client.completions.create(body);
    const stream = await client.completions.create({
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.text ?? '';
    }
    expect(text).toBe(whole.choices[0]!.text);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe(whole.choices[0]!.finish_reason);
    expect(chunks.at(-1)!.usage).toEqual(whole.usage);
    const empty = await client.completions.create({ model: 'micro', prompt: '', max_tokens: 3 });
    expect(empty.usage!.prompt_tokens).toBe(1);
  });
});
