import { describe, expect, it } from 'vitest';
import { MemoryPool } from './memory-pool.js';

describe('MemoryPool', () => {
  it('hands out aligned blocks by size class and reuses freed ones', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 64, shared: true });
    const pool = new MemoryPool(memory, 65536);
    const a = pool.acquire(1000);
    expect(a.address).toBe(65536);
    expect(a.size).toBe(1024);
    const b = pool.acquire(10);
    expect(b).toEqual({ address: 65536 + 1024, size: 256 });
    expect(pool.created).toBe(2);
    pool.release(a.address, a.size);
    expect(pool.pooledBytes).toBe(1024);
    // 900 bytes round to the same class: the freed block comes back, nothing new is made.
    expect(pool.acquire(900)).toEqual(a);
    expect(pool.created).toBe(2);
    expect(pool.pooledBytes).toBe(0);
    expect(pool.acquire(5000).address % 64).toBe(0);
  });

  it('grows the memory when no free block fits, keeping what it holds', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 64, shared: true });
    const pool = new MemoryPool(memory, 65536);
    const a = pool.acquire(256);
    new Float32Array(memory.buffer, a.address, 1)[0] = 42;
    const big = pool.acquire(1 << 20);
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(big.address + big.size);
    expect(new Float32Array(memory.buffer, a.address, 1)[0]).toBe(42);
  });

  it('says how far it could not grow', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    const pool = new MemoryPool(memory, 65536);
    expect(() => pool.acquire(1 << 20)).toThrow(
      /wasm memory: cannot grow from 0.1 MiB to 1.1 MiB for a block of 1048576 bytes/,
    );
  });
});
