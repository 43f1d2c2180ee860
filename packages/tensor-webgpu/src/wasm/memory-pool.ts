import { sizeClass } from '../webgpu/buffer-pool.js';

const PAGE = 65536;

/**
 * Blocks of a WebAssembly memory, pooled by size class as the GPU buffer pool does: sizes round
 * up to one of four steps per power of two, a freed block serves any later request of its class,
 * and the memory grows only when no free block fits. A training loop therefore stops growing the
 * memory after its first step. WebAssembly memory never shrinks: pooled blocks stay for reuse.
 */
export class MemoryPool {
  private readonly free = new Map<number, number[]>();
  private top: number;
  created = 0;
  pooledBytes = 0;

  /** Blocks start at `base` (bytes below it are the control block's). */
  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = base;
  }

  /**
   * A block of at least `bytes` (64-byte aligned): its address and its size.
   *
   * @throws RangeError - the memory cannot grow that far (wasm32 addresses 4 GiB)
   */
  acquire(bytes: number): { address: number; size: number } {
    const size = sizeClass(Math.max(bytes, 64));
    const reused = this.free.get(size)?.pop();
    if (reused !== undefined) {
      this.pooledBytes -= size;
      return { address: reused, size };
    }
    const address = this.top;
    const end = address + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch {
        throw new RangeError(
          `wasm memory: cannot grow from ${(have / 2 ** 20).toFixed(1)} MiB to ${(end / 2 ** 20).toFixed(1)} MiB for a block of ${bytes} bytes (a wasm32 memory addresses at most 4096 MiB)`,
        );
      }
    }
    this.top = end;
    this.created++;
    return { address, size };
  }

  release(address: number, size: number): void {
    let list = this.free.get(size);
    if (!list) {
      list = [];
      this.free.set(size, list);
    }
    list.push(address);
    this.pooledBytes += size;
  }
}
