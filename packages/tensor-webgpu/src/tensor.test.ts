import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { backends, cpu } from './test-utils/agree.js';

describe('Tensor', () => {
  it('reads back row-major data, nested arrays and a single item, from views too', async () => {
    for (const dev of [...backends, cpu]) {
      const x = T.reshape(T.arange(6, undefined, 1, { device: dev, dtype: 'f32' }), [2, 3]);
      expect(await x.toArray()).toEqual([
        [0, 1, 2],
        [3, 4, 5],
      ]);
      // A strided view is packed before it is read.
      expect(Array.from(await x.transpose().data())).toEqual([0, 3, 1, 4, 2, 5]);
      expect(await T.slice(x, 1, 2).toArray()).toEqual([[2], [5]]);
      expect(await T.reshape(T.slice(T.slice(x, 0, 1, 2), 1, 2, 3), []).toArray()).toBe(5);
      expect(await T.sum(x).item()).toBe(15);
      await expect(x.item()).rejects.toThrow(
        'item: expected a tensor with one element, got shape [2, 3]',
      );
    }
  });

  it('views share storage until the last one is disposed; a disposed tensor names itself', async () => {
    const x = T.zeros([2, 2], { device: cpu });
    const v = x.detach();
    expect(v.storage).toBe(x.storage);
    x.dispose();
    x.dispose(); // idempotent
    expect(x.isDisposed).toBe(true);
    expect(await v.toArray()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(() => T.add(x, 1)).toThrow(
      'add: tensor of shape [2, 2] (f32) was disposed and cannot be used',
    );
    await expect(x.data()).rejects.toThrow(/data: tensor of shape \[2, 2\]/);
  });

  it('in-place updates keep the storage and are not recorded by autograd', async () => {
    for (const dev of [...backends, cpu]) {
      const w = T.tensor([1, 2, 3], { device: dev, requiresGrad: true });
      const storage = w.storage;
      w.add_(1)
        .mul_(T.tensor([2, 2, 0.5], { device: dev }))
        .sub_(1)
        .div_(2);
      expect(w.storage).toBe(storage);
      expect(await w.toArray()).toEqual([1.5, 2.5, 0.5]);
      expect(w.requiresGrad).toBe(true);
      T.sum(T.mul(w, w)).backward();
      expect(await w.grad!.toArray()).toEqual([3, 5, 1]);
      w.zero_();
      expect(await w.toArray()).toEqual([0, 0, 0]);
    }
  });

  it('requiresGrad_ cannot be turned off on a non-leaf; toString names shape, dtype and backend', () => {
    const x = T.ones([2], { device: cpu }).requiresGrad_();
    const y = T.mul(x, 2);
    expect(() => y.requiresGrad_(false)).toThrow(
      'requiresGrad_: cannot turn off grad for a non-leaf tensor; use detach()',
    );
    expect(x.toString()).toBe('Tensor([2], f32, cpu, requiresGrad)');
    expect(y.detach().toString()).toBe('Tensor([2], f32, cpu)');
    expect(T.transpose(T.zeros([2, 3], { device: cpu })).isContiguous).toBe(false);
  });
});
