import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all } = await testDevices();

describe('device.profile', () => {
  for (const dev of all) {
    it(`attributes every kernel and its time (${dev.backend})`, async () => {
      const a = T.randn([512, 512], { device: dev, seed: 1 });
      const b = T.randn([512, 512], { device: dev, seed: 2 });
      const tiny = T.ones([4], { device: dev });
      await dev.sync();
      // Work recorded before the profile is not counted.
      T.add(tiny, tiny);
      const profile = await dev.profile(() => {
        T.matmul(a, b);
        for (let i = 0; i < 3; i++) T.add(tiny, tiny);
      });
      expect(profile.timing).toBe(dev.backend === 'webgpu' ? 'gpu-timestamps' : 'cpu-clock');
      expect(profile.dispatches).toBe(4);
      const matmul = profile.kernels.find((k) => k.name.startsWith('matmul'));
      const add = profile.kernels.find((k) => k.name.includes('add'));
      expect(matmul?.calls).toBe(1);
      expect(add?.calls).toBe(3);
      // 268 MFLOP against three 4-element adds: the order holds even on a loaded machine, where a
      // tiny kernel can take a millisecond of scheduling.
      expect(matmul!.totalMs).toBeGreaterThan(add!.totalMs);
      expect(profile.kernels[0]).toBe(matmul);
      const shares = profile.kernels.reduce((s, k) => s + k.share, 0);
      expect(shares).toBeCloseTo(1, 6);
      expect(profile.kernelMs).toBeGreaterThan(0);
      expect(profile.wallMs).toBeGreaterThan(0);
    });

    it(`refuses a nested profile and closes on error (${dev.backend})`, async () => {
      await expect(
        dev.profile(async () => {
          await dev.profile(() => {});
        }),
      ).rejects.toThrow(/already open/);
      await expect(
        dev.profile(() => {
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const after = await dev.profile(() => T.neg(T.ones([2], { device: dev })));
      expect(after.dispatches).toBeGreaterThanOrEqual(1);
    });
  }

  it('formats a table with the most expensive kernels first and the rest summed', async () => {
    const profile = {
      timing: 'cpu-clock' as const,
      kernels: [
        { name: 'matmul:a', calls: 2, totalMs: 6, meanMs: 3, share: 0.6 },
        { name: 'add:b', calls: 4, totalMs: 3, meanMs: 0.75, share: 0.3 },
        { name: 'neg:c', calls: 1, totalMs: 1, meanMs: 1, share: 0.1 },
      ],
      kernelMs: 10,
      wallMs: 12,
      dispatches: 7,
    };
    const table = T.formatProfile(profile, 2).split('\n');
    expect(table[2]).toBe('| `matmul:a` | 2 | 6.00 | 3000.0 | 60.0% |');
    expect(table[3]).toBe('| `add:b` | 4 | 3.00 | 750.0 | 30.0% |');
    expect(table[4]).toBe('| 1 more kernels | 1 | 1.00 | 1000.0 | 10.0% |');
    expect(table.at(-1)).toBe('7 dispatches, 10.0 ms in kernels, 12.0 ms wall (cpu-clock)');
  });
});
