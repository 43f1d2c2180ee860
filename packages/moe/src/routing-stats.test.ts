import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { RoutingCounter } from './routing-stats.js';

const { all } = await testDevices();

describe.each(all)('RoutingCounter ($info.backend)', (dev) => {
  it('sums counts over forward passes and derives the shares', async () => {
    const counter = new RoutingCounter(3, 2, dev);
    counter.record(T.tensor(Int32Array.from([4, 1, 1]), { device: dev }), 3, 3);
    counter.record(T.tensor(Int32Array.from([2, 2, 2]), { device: dev }), 3, 3);
    expect(await counter.read()).toEqual({
      forwards: 2,
      tokens: 6,
      tokensPerExpert: [6, 3, 3],
      dropped: 1,
      droppedShare: 1 / 12,
      maxLoad: 6 / 4,
      minLoad: 3 / 4,
    });
  });

  it('counts a pass recorded while a read is under way in the next read', async () => {
    const counter = new RoutingCounter(2, 1, dev);
    counter.record(T.tensor(Int32Array.from([1, 0]), { device: dev }), 1, 1);
    const reading = counter.read();
    counter.record(T.tensor(Int32Array.from([0, 1]), { device: dev }), 1, 1);
    expect((await reading).tokensPerExpert).toEqual([1, 0]);
    expect((await counter.read()).tokensPerExpert).toEqual([0, 1]);
  });
});
