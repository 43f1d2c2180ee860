/**
 * `fn` applied to every item with at most `limit` calls pending at once, the results in the
 * items' order (whatever order the calls finish in). The first call that rejects rejects the
 * whole; no new call starts after it.
 *
 * @throws RangeError - `limit` is not an integer ≥ 1 (the message starts with `where`)
 */
export async function mapLimit<T, R>(
  where: string,
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`${where}: concurrency must be an integer >= 1, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
