import { checkChoice, checkNumber, checkTensor } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';

const dev = await T.createDevice({ backend: 'cpu' });

describe('checkTensor', () => {
  it('binds named sizes across the tensors of one call', () => {
    const sizes = {};
    checkTensor('f', 'a', T.zeros([2, 3], { device: dev }), { shape: ['B', 'T'] }, sizes);
    expect(sizes).toEqual({ B: 2, T: 3 });
    expect(() =>
      checkTensor('f', 'b', T.zeros([2, 4], { device: dev }), { shape: ['B', 'T'] }, sizes),
    ).toThrow('f: b has T = 4 (shape [2, 4] f32), but T = 3 in the tensors before it');
  });

  it('names the argument, the expected and the actual shape and dtype', () => {
    expect(() =>
      checkTensor('f', 'ids', T.zeros([2], { device: dev }), { shape: ['B', 'T'], dtype: 'i32' }),
    ).toThrow('f: ids must be a [B, T] i32 tensor, got [2] f32');
    expect(() =>
      checkTensor('f', 'x', T.zeros([2], { device: dev }), { shape: ['B', 'T'] }),
    ).toThrow('f: x must have shape [B, T] f32, got [2] f32');
    expect(() => checkTensor('f', 'x', T.zeros([3], { device: dev }), { shape: [2] })).toThrow(
      'f: x must have shape [2] f32, got [3] f32',
    );
    expect(() => checkTensor('f', 'x', [1, 2], { shape: ['B'] })).toThrow(
      'f: x must be a [B] f32 tensor, got an array',
    );
  });
});

describe('checkNumber and checkChoice', () => {
  it('accept values in range and name what was expected otherwise', () => {
    expect(checkNumber('f', 'beta', 0.1, { above: 0 })).toBe(0.1);
    expect(() => checkNumber('f', 'beta', Number.NaN)).toThrow(
      'f: beta must be a finite number, got number NaN',
    );
    expect(() => checkNumber('f', 'n', 2.5, { min: 1, integer: true })).toThrow(
      'f: n must be an integer >= 1, got number 2.5',
    );
    expect(() => checkNumber('f', 's', 0.5, { min: 0, below: 0.5 })).toThrow(
      'f: s must be a finite number >= 0 and < 0.5, got number 0.5',
    );
    expect(checkChoice('f', 'mode', 'a', ['a', 'b'])).toBe('a');
    expect(() => checkChoice('f', 'mode', 'c', ['a', 'b'])).toThrow(
      `f: mode must be one of 'a', 'b', got "c"`,
    );
  });
});
