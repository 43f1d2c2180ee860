import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { batchAt } from './batch.js';

describe('batchAt', () => {
  it('gives the same windows for the same seed, targets shifted by one, from a split just long enough', async () => {
    const device = await T.createDevice({ backend: 'cpu' });
    const ids = Int32Array.from({ length: 9 }, (_, i) => i); // seqLen 8 + 1
    const a = batchAt(ids, 2, 8, 5, device);
    const b = batchAt(ids, 2, 8, 5, device);
    expect(Array.from(await a.x.data())).toEqual(Array.from(await b.x.data()));
    expect(Array.from(await a.x.data()).slice(0, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(await a.y.data()).slice(0, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
