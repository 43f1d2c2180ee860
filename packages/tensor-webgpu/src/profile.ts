/** Time spent in one kernel (grouped by its pipeline key) during `device.profile`. */
export interface KernelStat {
  /** The kernel's key: op, variant, dtypes and layout, e.g. `matmul:register8x4:f32:us:none`. */
  name: string;
  /** Dispatches (GPU) or kernel calls (CPU) recorded. */
  calls: number;
  /** Summed execution time in milliseconds. */
  totalMs: number;
  /** `totalMs / calls`. */
  meanMs: number;
  /** Fraction of the profile's summed kernel time, in [0, 1]. */
  share: number;
}

/**
 * What `device.profile` measured. On WebGPU, times come from timestamp queries around each
 * dispatch (so they are GPU execution times, without JavaScript or submission overhead); on the
 * CPU backend, from the wall clock around each kernel.
 */
export interface KernelProfile {
  /** How times were taken; `'none'` when the adapter has no `timestamp-query` (calls only). */
  timing: 'gpu-timestamps' | 'cpu-clock' | 'none';
  /** One entry per kernel key, the most expensive first. */
  kernels: KernelStat[];
  /** Summed kernel time in milliseconds. */
  kernelMs: number;
  /** Wall-clock time of the profiled function, including its final synchronisation. */
  wallMs: number;
  dispatches: number;
}

/** Accumulates kernel times while a profile is open. */
export class ProfileCollector {
  private readonly byName = new Map<string, { calls: number; totalMs: number }>();
  /** Timestamp read-backs still in flight; `finish` waits for them. */
  readonly pending: Promise<void>[] = [];

  /** Runs `fn` and adds the wall-clock time it took under `name` (CPU-side backends). */
  time(name: string, fn: () => void): void {
    const t0 = performance.now();
    fn();
    this.add(name, performance.now() - t0);
  }

  add(name: string, ms: number): void {
    const s = this.byName.get(name) ?? { calls: 0, totalMs: 0 };
    s.calls++;
    s.totalMs += ms;
    this.byName.set(name, s);
  }

  async finish(timing: KernelProfile['timing'], wallMs: number): Promise<KernelProfile> {
    await Promise.all(this.pending);
    let kernelMs = 0;
    let dispatches = 0;
    for (const s of this.byName.values()) {
      kernelMs += s.totalMs;
      dispatches += s.calls;
    }
    const kernels = [...this.byName]
      .map(([name, s]) => ({
        name,
        calls: s.calls,
        totalMs: s.totalMs,
        meanMs: s.totalMs / s.calls,
        share: kernelMs > 0 ? s.totalMs / kernelMs : 0,
      }))
      .sort((a, b) => b.totalMs - a.totalMs || b.calls - a.calls);
    return { timing, kernels, kernelMs, wallMs, dispatches };
  }
}

/**
 * A profile as a Markdown table, the most expensive kernels first (like PyTorch's
 * `key_averages().table()`). `top` limits the rows; the rest are summed into one line.
 */
export function formatProfile(profile: KernelProfile, top = 20): string {
  const rows = profile.kernels.slice(0, top);
  const rest = profile.kernels.slice(top);
  const lines = ['| kernel | calls | total ms | mean µs | share |', '|---|---:|---:|---:|---:|'];
  const line = (name: string, calls: number, ms: number, share: number) =>
    `| ${name} | ${calls} | ${ms.toFixed(2)} | ${((1000 * ms) / Math.max(calls, 1)).toFixed(1)} | ${(100 * share).toFixed(1)}% |`;
  for (const k of rows) lines.push(line(`\`${k.name}\``, k.calls, k.totalMs, k.share));
  if (rest.length > 0) {
    const sum = (f: (k: KernelStat) => number) => rest.reduce((a, k) => a + f(k), 0);
    lines.push(
      line(
        `${rest.length} more kernels`,
        sum((k) => k.calls),
        sum((k) => k.totalMs),
        sum((k) => k.share),
      ),
    );
  }
  lines.push(
    '',
    `${profile.dispatches} dispatches, ${profile.kernelMs.toFixed(1)} ms in kernels, ${profile.wallMs.toFixed(1)} ms wall (${profile.timing})`,
  );
  return lines.join('\n');
}
