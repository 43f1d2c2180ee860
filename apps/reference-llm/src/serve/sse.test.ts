import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { EventStream } from './sse.js';

const app = Fastify();
let closed = 0;
app.get<{ Querystring: { done?: string; hold?: string } }>('/events', async (request, reply) => {
  const stream = new EventStream(reply);
  stream.onClose(() => closed++);
  stream.send({ n: 1 });
  stream.send({ text: 'a\nb' });
  if (request.query.hold) return; // never ends: the client will go away
  stream.end({ done: request.query.done !== 'no' });
  stream.send({ late: true }); // after the end: dropped
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
afterAll(() => app.close());

describe('EventStream', () => {
  it('writes data events and ends with [DONE], or without it after an error event', async () => {
    const r = await fetch(`${url}/events`);
    expect(r.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await r.text()).toBe('data: {"n":1}\n\ndata: {"text":"a\\nb"}\n\ndata: [DONE]\n\n');
    expect(await (await fetch(`${url}/events?done=no`)).text()).toBe(
      'data: {"n":1}\n\ndata: {"text":"a\\nb"}\n\n',
    );
    expect(closed).toBe(0);
  });

  it('tells when the client goes away before the end', async () => {
    const abort = new AbortController();
    const r = await fetch(`${url}/events?hold=1`, { signal: abort.signal });
    await r.body!.getReader().read();
    abort.abort();
    while (closed === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(closed).toBe(1);
  });
});
