import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { cpu } from './test-utils/agree.js';
import { gradCheck, smoothValues } from './testing-gradcheck.js';

/** y = 2x whose backward forgets the factor 2: the mistake gradCheck exists to catch. */
const wrongDouble = T.defineOp<undefined>({
  name: 'wrong_double',
  outputs: ([x]) => [{ shape: x!.shape, dtype: x!.dtype }],
  wgsl: () => {
    throw new Error('wrong_double runs on the CPU reference only');
  },
  cpu: ([x], [y]) => {
    for (let i = 0; i < y!.data.length; i++) y!.data[i] = 2 * x!.data[i]!;
  },
  backward: ([g]) => [g!],
});

describe('gradCheck', () => {
  it('passes a correct gradient and flags a wrong one by its relative error', async () => {
    const inputs = [smoothValues(6, 1)];
    expect(await gradCheck(cpu, (x) => T.mul(x, x), inputs, [[2, 3]])).toBeLessThan(1e-2);
    // Analytic 1 against numeric 2: relative error 1/2.
    const err = await gradCheck(cpu, (x) => wrongDouble([x], undefined)[0]!, inputs, [[2, 3]]);
    expect(err).toBeCloseTo(0.5, 2);
  });

  it('smoothValues are deterministic and lie in [lo, hi]', () => {
    const v = smoothValues(50, 3, -1, 4);
    expect(smoothValues(50, 3, -1, 4)).toEqual(v);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...v)).toBeLessThanOrEqual(4);
    expect(smoothValues(50, 4, -1, 4)).not.toEqual(v);
  });
});
