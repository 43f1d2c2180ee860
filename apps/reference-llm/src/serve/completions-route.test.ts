import { testDevices } from '@tessera/tensor-webgpu/testing';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { listen, servedMicro } from '../test-utils/serve.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const served = await servedMicro(device);
const server = await listen([served]);
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

  it('takes token ids as the prompt; echo prepends the prompt, whole and streamed', async () => {
    const body = { model: 'micro', max_tokens: 6, temperature: 0 };
    const post = (b: object) =>
      fetch(`${server.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, ...b }),
      });
    const ids = served.tokenizer.encode('ROMEO:');
    const text = await client.completions.create({ ...body, prompt: 'ROMEO:' });
    const fromIds = await (await post({ prompt: ids })).json();
    expect(fromIds.choices[0].text).toBe(text.choices[0]!.text);
    expect(fromIds.usage).toEqual(text.usage);
    const several = await (await post({ prompt: [ids, ids.slice(0, 1)], echo: true })).json();
    expect(several.choices).toHaveLength(2);
    expect(several.choices[0].text).toBe(`ROMEO:${text.choices[0]!.text}`);
    expect(several.choices[1].text.startsWith(served.tokenizer.decode(ids.slice(0, 1)))).toBe(true);

    const echoed = await client.completions.create({ ...body, prompt: 'ROMEO:', echo: true });
    expect(echoed.choices[0]!.text).toBe(`ROMEO:${text.choices[0]!.text}`);
    const stream = await client.completions.create({
      ...body,
      prompt: 'ROMEO:',
      echo: true,
      stream: true,
    });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.text ?? '';
    expect(streamed).toBe(echoed.choices[0]!.text);
  });

  it('a token id outside the vocabulary, and echo with logprobs, are 400s naming the argument', async () => {
    const vocab = served.tokenizer.vocabSize;
    const bad = await client.completions
      .create({ model: 'micro', prompt: [1, vocab], max_tokens: 2 } as never)
      .catch((e) => e);
    expect(bad.status).toBe(400);
    expect(bad.error.param).toBe('prompt');
    expect(bad.error.message).toContain(`token id ${vocab} at prompt 0, position 1`);
    const echo = await client.completions
      .create({ model: 'micro', prompt: 'x', echo: true, logprobs: 1, max_tokens: 2 })
      .catch((e) => e);
    expect(echo.status).toBe(400);
    expect(echo.error.param).toBe('echo');
  });
});
