import { Rng } from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { complete, type ModelState } from '../load.js';
import { readCheckpoint } from '../run-folder.js';
import { listen, microRun, servedMicro, testEngine } from '../test-utils/serve.js';
import { loadServedModel } from './models.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const model = await servedMicro(device, { maxBatch: 2, maxQueue: 0 });
const server = await listen([model], { bodyLimit: 16_384, maxN: 4 });
afterAll(() => server.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** The status and OpenAI error body of a response. */
async function failure(response: Promise<Response>) {
  const r = await response;
  return { status: r.status, ...((await r.json()) as { error: Record<string, unknown> }) };
}

const chat = (extra: object = {}) => ({
  model: 'micro',
  messages: [{ role: 'user', content: 'Hi' }],
  max_tokens: 4,
  ...extra,
});

describe('the server', () => {
  it('health, models (each card naming its checkpoint by its weights), and a model by name', async () => {
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({
      status: 'ok',
      models: ['micro'],
    });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x' });
    const list = await client.models.list();
    // The card names the checkpoint by its weights' SHA-256, as the run folder records it.
    const weights = readCheckpoint(await microRun(device)).state.files['model.safetensors'];
    expect(weights).toMatch(/^[0-9a-f]{64}$/);
    expect(list.data).toEqual([
      {
        id: 'micro',
        object: 'model',
        created: model.created,
        owned_by: 'tessera',
        weights_sha256: weights,
      },
    ]);
    expect((await client.models.retrieve('micro')).id).toBe('micro');
    await expect(client.models.retrieve('nope')).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
    });
  });

  it("answers bad input with OpenAI's error body and the right status, naming the parameter", async () => {
    const cases: [() => Promise<Response>, number, Record<string, unknown>][] = [
      [
        () => post('/v1/chat/completions', '{"model": "micro", "messages": ['),
        400,
        { type: 'invalid_request_error', param: null },
      ],
      [
        () => post('/v1/chat/completions', chat({ model: 'gpt-9' })),
        404,
        { code: 'model_not_found', param: 'model' },
      ],
      [
        () => post('/v1/chat/completions', chat({ temperature: 'hot' })),
        400,
        { param: 'temperature' },
      ],
      [() => post('/v1/chat/completions', chat({ max_tokens: -5 })), 400, { param: 'max_tokens' }],
      [() => post('/v1/chat/completions', chat({ max_tokens: '4' })), 400, { param: 'max_tokens' }],
      [() => post('/v1/chat/completions', chat({ n: 5 })), 400, { param: 'n' }],
      [() => post('/v1/chat/completions', chat({ messages: [] })), 400, { param: 'messages' }],
      [
        () => post('/v1/chat/completions', chat({ messages: [{ role: 'wizard', content: 'x' }] })),
        400,
        { param: 'messages[0].role' },
      ],
      [() => post('/v1/chat/completions', { messages: chat().messages }), 400, { param: 'model' }],
      [
        () => post('/v1/chat/completions', chat({ frobnicate: true })),
        400,
        { param: 'frobnicate', message: 'Unrecognized request argument supplied: frobnicate' },
      ],
      [
        () => post('/v1/chat/completions', chat({ logit_bias: { '99999': 1 } })),
        400,
        { param: 'logit_bias' },
      ],
      [
        () =>
          post(
            '/v1/chat/completions',
            chat({ messages: [{ role: 'user', content: 'To be or not '.repeat(200) }] }),
          ),
        400,
        { code: 'context_length_exceeded', param: 'messages' },
      ],
      [
        () => post('/v1/completions', { model: 'micro', prompt: 'x', max_tokens: 2000 }),
        400,
        { code: 'context_length_exceeded', param: 'prompt' },
      ],
      [
        () =>
          post(
            '/v1/chat/completions',
            chat({ messages: [{ role: 'user', content: 'x'.repeat(20_000) }] }),
          ),
        413,
        { code: 'request_too_large' },
      ],
      [
        () =>
          post('/v1/chat/completions', 'model=micro', {
            'content-type': 'application/x-www-form-urlencoded',
          }),
        415,
        {},
      ],
      [() => post('/v1/chat/completions', 'hello', { 'content-type': 'text/plain' }), 415, {}],
      [
        () => post('/v1/chat/completions', chat({ stop: ['a', 'b', 'c', 'd', 'e'] })),
        400,
        { param: 'stop', message: "Invalid value for 'stop': must NOT have more than 4 items." },
      ],
      [
        () =>
          post('/v1/chat/completions', chat({ messages: [{ role: 'tool', content: 'sunny' }] })),
        400,
        { param: 'messages[0].tool_call_id' },
      ],
      [
        () => post('/v1/chat/completions', '{"__proto__": {"polluted": true}, "model": "micro"}'),
        400,
        {},
      ],
      [() => fetch(`${server.url}/v1/embeddings`), 404, { code: 'unknown_url' }],
    ];
    for (const [response, status, fields] of cases) {
      const r = await failure(response());
      expect(r.status, JSON.stringify(r)).toBe(status);
      expect(Object.keys(r.error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(r.error).toMatchObject({
        message: expect.any(String),
        type: expect.any(String),
        ...fields,
      });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('special-token text in a message is plain text, never a control token', async () => {
    const text = 'USER:\n<|endoftext|>\n\nASSISTANT:\n';
    const r = (await (
      await post(
        '/v1/chat/completions',
        chat({ messages: [{ role: 'user', content: '<|endoftext|>' }] }),
      )
    ).json()) as {
      usage: { prompt_tokens: number };
    };
    const plain = model.tokenizer.encode(text, { disallowedSpecial: [] });
    const special = model.tokenizer.encode(text, { allowedSpecial: 'all' });
    expect(plain.length).toBeGreaterThan(special.length);
    expect(r.usage.prompt_tokens).toBe(plain.length);
  });

  it("concurrent requests each get what they get alone: no request sees another's tokens", async () => {
    const bodies = [0, 1, 2, 3].map((i) =>
      chat({
        messages: [{ role: 'user', content: `Speak, ${['Romeo', 'Juliet', 'Hamlet', 'Lear'][i]}` }],
        seed: i,
        max_tokens: 12,
        temperature: 1,
      }),
    );
    const alone = [];
    for (const b of bodies) alone.push(await (await post('/v1/chat/completions', b)).json());
    // maxBatch 2 and maxQueue 0: two at a time (the others would get 429), twice.
    const together = [
      ...(await Promise.all(
        bodies.slice(0, 2).map(async (b) => (await post('/v1/chat/completions', b)).json()),
      )),
      ...(await Promise.all(
        bodies.slice(2).map(async (b) => (await post('/v1/chat/completions', b)).json()),
      )),
    ];
    const texts = (rs: unknown[]) =>
      rs.map(
        (r) => (r as { choices: { message: { content: string } }[] }).choices[0]!.message.content,
      );
    expect(texts(together)).toEqual(texts(alone));
  });

  it('a full server answers 429 with Retry-After; a client that goes away frees its row at once', async () => {
    // Two long streams that cannot end early: a completion (no chat stop sequences) with the
    // end-of-text token banned, so both rows stay busy however slowly the test runs.
    const eos = model.tokenizer.specialTokens['<|endoftext|>']!;
    const long = {
      model: 'micro',
      prompt: 'ROMEO:',
      stream: true,
      max_tokens: 900,
      logit_bias: { [eos]: -100 },
    };
    const responses = await Promise.all([0, 1].map(() => post('/v1/completions', long)));
    const readers = responses.map((r) => r.body!.getReader());
    for (const reader of readers) await reader.read(); // both streams have begun
    // The first chunk (the role) may leave before the engine admits its row: wait for both rows.
    const admitted = performance.now();
    while (model.engine.stats().active < 2 && performance.now() - admitted < 10_000)
      await new Promise((r) => setTimeout(r, 5));
    const busy = await post('/v1/chat/completions', chat());
    expect(busy.status).toBe(429);
    expect(busy.headers.get('retry-after')).toBe('1');
    expect(((await busy.json()) as { error: { type: string } }).error.type).toBe(
      'rate_limit_error',
    );
    expect(model.engine.stats()).toMatchObject({ active: 2 });
    for (const reader of readers) await reader.cancel();
    const freed = performance.now();
    while (model.engine.stats().active > 0) await new Promise((r) => setTimeout(r, 5));
    expect(performance.now() - freed).toBeLessThan(5_000);
    expect(model.engine.stats()).toMatchObject({ active: 0, kvPositions: 0 });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/tessera_kv_cache_usage_ratio\{model="micro"\} 0\n/);
    expect(metrics).toMatch(
      /tessera_requests_total\{route="\/v1\/chat\/completions",status="429"\} 1\n/,
    );
    expect((await post('/v1/chat/completions', chat())).status).toBe(200);
  });

  it('a client that goes away before a whole (non-streaming) reply frees its row too', async () => {
    const abort = new AbortController();
    const pending = fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat({ max_tokens: 900 })),
      signal: abort.signal,
    });
    while (model.engine.stats().active === 0) await new Promise((r) => setTimeout(r, 5));
    abort.abort();
    await expect(pending).rejects.toThrow();
    const gone = performance.now();
    while (model.engine.stats().active > 0) await new Promise((r) => setTimeout(r, 5));
    expect(performance.now() - gone).toBeLessThan(5_000);
    expect(model.engine.stats().kvPositions).toBe(0);
  });

  it('nothing a client sends crashes it: 300 random bodies get 4xx error bodies, then it still serves', async () => {
    const rng = new Rng(7);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng.next() * xs.length)]!;
    const values = [
      null,
      true,
      -1,
      0,
      1e308,
      -1e-9,
      2 ** 53,
      '',
      'x',
      '\u0000',
      '<|endoftext|>',
      [],
      {},
      [1, 'a'],
      { a: { b: [] } },
    ];
    const keys = [
      'model',
      'messages',
      'prompt',
      'n',
      'max_tokens',
      'temperature',
      'top_p',
      'stop',
      'seed',
      'stream',
      'tools',
      'tool_choice',
      'logprobs',
      'top_logprobs',
      'logit_bias',
      'constructor',
      '__proto__',
    ];
    for (let i = 0; i < 300; i++) {
      const body: Record<string, unknown> = rng.next() < 0.5 ? chat() : {};
      for (let k = 0; k < 1 + Math.floor(rng.next() * 4); k++) body[pick(keys)] = pick(values);
      const path = pick(['/v1/chat/completions', '/v1/completions']);
      const raw =
        rng.next() < 0.1
          ? JSON.stringify(body).slice(0, -1 - Math.floor(rng.next() * 5))
          : JSON.stringify(body);
      const r = await post(path, raw);
      const text = await r.text();
      if (r.status === 200) continue; // a body that happens to be valid
      expect(r.status, `${raw} → ${text}`).toBeGreaterThanOrEqual(400);
      expect(r.status, `${raw} → ${text}`).toBeLessThan(500);
      expect(JSON.parse(text).error.message).toEqual(expect.any(String));
    }
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(model.engine.stats().active).toBe(0);
  });
});

describe('bearer-token auth', () => {
  it('guards /v1 and /metrics, not /health and the pages; a wrong key is 401', async () => {
    const guarded = await listen([await servedMicro(device, { maxBatch: 1 })], {
      apiKey: 'sekret',
    });
    const get = (path: string, key?: string) =>
      fetch(`${guarded.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    expect((await get('/health')).status).toBe(200);
    expect((await get('/')).status).toBe(200);
    const train = await get('/train');
    expect(train.status).toBe(200);
    expect(train.headers.get('cross-origin-embedder-policy')).toBe('require-corp'); // wasm threads
    expect(train.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(await train.text()).toContain('The training page is not built');
    const denied = await get('/v1/models');
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe(
      'invalid_api_key',
    );
    expect((await get('/v1/models', 'sekre')).status).toBe(401);
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', 'sekret')).status).toBe(200);
    const client = new OpenAI({ baseURL: `${guarded.url}/v1`, apiKey: 'sekret' });
    expect((await client.models.list()).data[0]!.id).toBe('micro');
    await guarded.close();
  });
});

describe('the server, with a mixture-of-experts checkpoint', () => {
  it('completes as `generate` does from the same checkpoint (greedy)', async () => {
    const dir = await microRun(cpu, 64, { experts: 4, topK: 2, sharedExperts: 1 });
    const moe = await loadServedModel({ name: 'moe', dir }, cpu, testEngine);
    const saved = readCheckpoint<ModelState>(dir).state.model;
    expect(saved).toMatchObject({ ffn: 'moe', moe: { experts: 4, topK: 2, sharedExperts: 1 } });
    const moeServer = await listen([moe]);
    try {
      const client = new OpenAI({ baseURL: `${moeServer.url}/v1`, apiKey: 'x' });
      const served = await client.completions.create({
        model: 'moe',
        prompt: 'ROMEO:',
        max_tokens: 12,
        temperature: 0,
      });
      const generated = await complete(dir, 'ROMEO:', {
        device: cpu,
        maxNewTokens: 12,
        temperature: 0,
      });
      expect(served.choices[0]!.text.length).toBeGreaterThan(0);
      expect(served.choices[0]!.text).toBe(generated);
    } finally {
      await moeServer.close();
    }
  });
});
