/** Shape arithmetic shared by both backends: sizes, strides, broadcasting, axes. */

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-contiguous) strides, in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/**
 * Strides under which a tensor of `shape`/`strides` reads as `newShape` without moving data, or
 * undefined when no such strides exist (then a reshape must copy). PyTorch's rule: the old
 * dimensions split into runs that are contiguous with each other, and each run must be
 * covered by whole dimensions of the new shape.
 */
export function viewStrides(
  shape: Shape,
  strides: readonly number[],
  newShape: Shape,
): number[] | undefined {
  if (sizeOf(shape) === 0 || shape.length === 0) return contiguousStrides(newShape);
  const out = new Array<number>(newShape.length);
  let viewD = newShape.length - 1;
  let chunkBase = strides[shape.length - 1]!;
  let oldNumel = 1;
  let newNumel = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    oldNumel *= shape[d]!;
    // A run ends where the next-outer dimension is not laid out right after this one.
    const runEnds = d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== oldNumel * chunkBase);
    if (!runEnds) continue;
    while (viewD >= 0 && (newNumel < oldNumel || newShape[viewD] === 1)) {
      out[viewD] = newNumel * chunkBase;
      newNumel *= newShape[viewD]!;
      viewD--;
    }
    if (newNumel !== oldNumel) return undefined;
    if (d > 0) {
      chunkBase = strides[d - 1]!;
      oldNumel = 1;
      newNumel = 1;
    }
  }
  return viewD === -1 ? out : undefined;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function assertShape(shape: unknown, argument: string): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new TypeError(
      `${argument}: expected an array of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  return [...shape];
}

/** NumPy broadcasting of two shapes; names the op and both shapes when they do not broadcast. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (dimension ${i}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Normalises possibly negative axes against a rank; undefined means all axes. A scalar's axis 0
 * (or -1) names the scalar itself, as in PyTorch: it leaves nothing to reduce.
 */
export function normalizeAxes(
  axes: number | readonly number[] | undefined,
  rank: number,
  op: string,
): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => normalizeAxis(a, rank, op));
  if (new Set(out).size !== out.length) {
    throw new RangeError(`${op}: axes ${JSON.stringify(list)} repeat an axis`);
  }
  return rank === 0 ? [] : out.sort((x, y) => x - y);
}

/** A possibly negative axis as an index below `rank`; a scalar takes axis 0 or -1 (as 0). */
export function normalizeAxis(axis: number, rank: number, op: string): number {
  const wrap = Math.max(rank, 1);
  if (!Number.isInteger(axis) || axis < -wrap || axis >= wrap) {
    throw new RangeError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return axis < 0 ? axis + wrap : axis;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
