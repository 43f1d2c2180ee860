import { describe, expect, it } from 'vitest';
import type { ServedModel } from './models.js';
import { chunkMaker, responseHead } from './respond.js';
import type { ServerContext } from './server.js';

const model = { name: 'micro', step: 7 } as ServedModel;
const ctx = { fingerprint: (m: ServedModel) => `fp-${m.name}-${m.step}` } as ServerContext;

describe('responseHead', () => {
  it('an id with the prefix and 24 hex digits, the time in seconds, the model and its fingerprint', () => {
    const before = Math.floor(Date.now() / 1000);
    const head = responseHead('cmpl', model, ctx);
    expect(head.id).toMatch(/^cmpl-[0-9a-f]{24}$/);
    expect(head.created).toBeGreaterThanOrEqual(before);
    expect(head.created).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(head).toMatchObject({ model: 'micro', system_fingerprint: 'fp-micro-7' });
    expect(responseHead('chatcmpl', model, ctx).id).not.toBe(head.id);
  });
});

describe('chunkMaker', () => {
  it('puts usage: null on every chunk only when the client asked for usage', () => {
    const head = { id: 'x' };
    const choices = [{ index: 0 }];
    expect(chunkMaker(head, 'text_completion', false)(choices)).toEqual({
      id: 'x',
      object: 'text_completion',
      choices,
    });
    const withUsage = chunkMaker(head, 'chat.completion.chunk', true);
    expect(withUsage(choices)).toEqual({
      id: 'x',
      object: 'chat.completion.chunk',
      choices,
      usage: null,
    });
    // The last chunk replaces the null with the counts.
    expect(withUsage([], { usage: { total_tokens: 3 } })).toMatchObject({
      choices: [],
      usage: { total_tokens: 3 },
    });
  });
});
