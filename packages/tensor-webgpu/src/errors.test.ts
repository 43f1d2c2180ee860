import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { checkOptions } from './errors.js';

describe('checkOptions', () => {
  it('accepts known keys and no options', () => {
    expect(() => checkOptions('f', { a: 1, b: undefined }, ['a', 'b'])).not.toThrow();
    expect(() => checkOptions('f', undefined, ['a'])).not.toThrow();
  });

  it('names the call, the unknown key and the known ones', () => {
    expect(() => checkOptions('rope', { truncat: false }, ['dim', 'truncate'])).toThrow(
      'rope: unknown option "truncat" (known options: dim, truncate)',
    );
  });

  it('refuses options that are not an object', () => {
    expect(() => checkOptions('f', 3, ['a'])).toThrow('f: options must be an object, got number 3');
    expect(() => checkOptions('f', null, ['a'])).toThrow('got null');
    expect(() => checkOptions('f', [1], ['a'])).toThrow('got an array');
  });
});

describe('the options objects of the public API', () => {
  it('reject unknown keys, naming the call', async () => {
    const cpu = await T.createDevice({ backend: 'cpu' });
    const x = T.ones([2, 3], { device: cpu });
    const typo = { devise: cpu } as never;
    const calls: [string, () => unknown][] = [
      ['tensor', () => T.tensor([1], typo)],
      ['full', () => T.full([1], 0, typo)],
      ['zeros', () => T.zeros([1], typo)],
      ['ones', () => T.ones([1], typo)],
      ['arange', () => T.arange(3, undefined, 1, typo)],
      ['rand', () => T.rand([1], typo)],
      ['randn', () => T.randn([1], typo)],
      ['randint', () => T.randint(0, 2, [1], typo)],
      ['sum', () => T.sum(x, 0, typo)],
      ['max', () => x.max(0, typo)],
      ['mean', () => T.mean(x, 0, typo)],
      ['sumOfSquares', () => T.sumOfSquares(x, 0, typo)],
      ['variance', () => T.variance(x, 0, typo)],
      ['argmax', () => T.argmax(x, 0, typo)],
      ['logsumexp', () => T.logsumexp(x, 1, typo)],
      ['gelu', () => T.gelu(x, typo)],
      ['dropout', () => T.dropout(x, 0.5, typo)],
      ['matmul', () => T.matmul(x, T.ones([3, 2], { device: cpu }), typo)],
      ['addmm', () => T.addmm(x, x, T.ones([3, 3], { device: cpu }), typo)],
    ];
    for (const [where, call] of calls)
      expect(call, where).toThrow(`${where}: unknown option "devise"`);
    await expect(T.createDevice({ backend: 'cpu', backened: 'cpu' } as never)).rejects.toThrow(
      'createDevice: unknown option "backened" (known options: backend, powerPreference, threads)',
    );
  });
});
