import { describe, expect, it } from 'vitest';
import { checkCode, checkError, checkWgsl, recordedError } from './device-checks.js';

describe('device checks', () => {
  it('checkError words the failure of each kind', () => {
    expect(checkError('index', 'gather', 9, 4).message).toBe(
      'gather: index 9 is out of range for a dimension of size 4',
    );
    expect(checkError('target', 'crossEntropy', -2, 10).message).toBe(
      'crossEntropy: target -2 is out of range for 10 classes (expected 0 <= target < 10, or the ignore index)',
    );
  });

  it('codes are non-zero, stable per (kind, op), and decode back to the same error', () => {
    const a = checkCode('index', 'test-op-a');
    const b = checkCode('target', 'test-op-a');
    expect(a).toBeGreaterThan(0);
    expect(b).not.toBe(a);
    expect(checkCode('index', 'test-op-a')).toBe(a);
    // The value travels as i32 bits in a u32 word.
    const err = recordedError(Uint32Array.from([b, -5 >>> 0, 7, 0]));
    expect(err).toBeInstanceOf(RangeError);
    expect(err!.message).toBe(checkError('target', 'test-op-a', -5, 7).message);
    expect(recordedError(new Uint32Array(4))).toBeUndefined();
  });

  it('checkWgsl binds the check buffer where asked and keeps the first failure', () => {
    const code = checkWgsl(5);
    expect(code).toContain('@group(0) @binding(5) var<storage, read_write> checks');
    expect(code).toContain('atomicCompareExchangeWeak(&checks[0], 0u, code)');
  });
});
