import { describe, expect, it } from 'vitest';
import { BufferPool, sizeClass } from './buffer-pool.js';

/** A GPUDevice stand-in that only creates buffers (the pool needs nothing else). */
function fakeDevice() {
  const made: { size: number; destroyed: boolean }[] = [];
  const device = {
    createBuffer: ({ size }: { size: number }) => {
      const b = { size, destroyed: false, destroy: () => (b.destroyed = true) };
      made.push(b);
      return b;
    },
  };
  return { device: device as unknown as GPUDevice, made };
}

describe('buffer pool', () => {
  it('rounds sizes to four classes per power of two, at least 256 bytes', () => {
    expect([1, 256, 257, 1024, 1025, 1280, 1281, 1536, 1792, 1793].map(sizeClass)).toEqual([
      256, 256, 320, 1024, 1280, 1280, 1536, 1536, 1792, 2048,
    ]);
    for (let bytes = 1; bytes < 100000; bytes += 97) {
      const c = sizeClass(bytes);
      expect(c >= bytes && c <= Math.max(256, bytes * 1.25)).toBe(true);
    }
  });

  it('hands a released buffer to the next request of its class and destroys pooled ones on clear', () => {
    const { device, made } = fakeDevice();
    const pool = new BufferPool(device, 0);
    const a = pool.acquire(1000);
    expect(a.size).toBe(1024);
    pool.release(a);
    expect(pool.pooledBytes).toBe(1024);
    expect(pool.acquire(900)).toBe(a);
    expect(pool.pooledBytes).toBe(0);
    const b = pool.acquire(2000);
    expect(pool.created).toBe(2);
    pool.release(b);
    pool.clear();
    expect(pool.pooledBytes).toBe(0);
    expect(made.map((m) => m.destroyed)).toEqual([false, true]);
    expect(pool.acquire(2000)).not.toBe(b);
  });
});
