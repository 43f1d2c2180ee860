/**
 * Median seconds of `fn` (which returns when its result is on the host, so that device work is
 * counted), after one warm-up call: at least 3 samples, then more until `budgetSeconds` have
 * passed, at most 50.
 */
export async function medianSeconds(
  fn: () => Promise<unknown>,
  budgetSeconds: number,
): Promise<number> {
  await fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 3 || (performance.now() - start) / 1000 < budgetSeconds) {
    const t0 = performance.now();
    await fn();
    samples.push((performance.now() - t0) / 1000);
    if (samples.length >= 50) break;
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}
