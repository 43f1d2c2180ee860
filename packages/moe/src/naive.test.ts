import { naiveMoE } from '@tessera/moe';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { reference, referenceLayer, toTensor } from './test-utils/reference.js';

const { all } = await testDevices();

describe.each(all)('naiveMoE ($info.backend)', (dev) => {
  for (const [name, c] of Object.entries(reference)) {
    it(`${name}: the loop over experts matches the PyTorch reference, forward and backward`, async () => {
      const layer = referenceLayer(c, dev);
      const x = toTensor(c.x, dev).requiresGrad_();
      const y = await naiveMoE(layer, x);
      expect(maxRelError(await y.data(), c.y.data)).toBeLessThan(2e-5);
      // Without the auxiliary losses, the gradient of Σ y·cotangent reaches the experts as in
      // the reference (whose loss adds the router's losses, which do not touch the experts).
      T.sum(T.mul(y, toTensor(c.cotangent, dev))).backward();
      const params = layer.stateDict();
      for (const key of Object.keys(c.params).filter((k) => k.includes('experts')))
        expect([key, maxRelError(await params[key]!.grad!.data(), c.grads[key]!.data)]).toEqual([
          key,
          expect.toSatisfy((e: number) => e < 2e-5),
        ]);
    });
  }
});
