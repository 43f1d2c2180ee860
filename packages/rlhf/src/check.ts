import { type DType, Tensor } from '@tessera/tensor-webgpu';

/** What `checkTensor` expects: each dimension a size, or a name that must agree across calls. */
export interface TensorSpec {
  /** Dimensions in order; a number fixes the size, a string (`'B'`, `'T'`) names a size. */
  shape: readonly (number | string)[];
  /** Default `'f32'`. */
  dtype?: DType;
}

/**
 * Checks that `value` is a tensor of the given rank and dtype and binds named dimensions in
 * `sizes`, so that every tensor of one call agrees on `B`, `T`, ... The first tensor to name a
 * dimension fixes its size.
 *
 * @param where - the function being called, e.g. `'dpoLoss'`
 * @param name - the argument, e.g. `'chosenLogps'`
 * @param value - what the caller passed
 * @param spec - the expected shape (sizes or names) and dtype
 * @param sizes - named sizes bound so far in this call; updated in place
 * @returns the tensor, typed
 * @throws TypeError - not a tensor, or the wrong dtype
 * @throws RangeError - the wrong rank, or a size that disagrees with the spec or an earlier tensor
 */
export function checkTensor(
  where: string,
  name: string,
  value: unknown,
  spec: TensorSpec,
  sizes: Record<string, number> = {},
): Tensor {
  const dtype = spec.dtype ?? 'f32';
  const expected = `[${spec.shape.join(', ')}] ${dtype}`;
  if (!(value instanceof Tensor))
    throw new TypeError(`${where}: ${name} must be a ${expected} tensor, got ${describe(value)}`);
  const got = `[${value.shape.join(', ')}] ${value.dtype}`;
  if (value.dtype !== dtype)
    throw new TypeError(`${where}: ${name} must be a ${expected} tensor, got ${got}`);
  if (value.rank !== spec.shape.length)
    throw new RangeError(`${where}: ${name} must have shape ${expected}, got ${got}`);
  spec.shape.forEach((dim, i) => {
    const size = value.shape[i]!;
    if (typeof dim === 'number') {
      if (size !== dim)
        throw new RangeError(`${where}: ${name} must have shape ${expected}, got ${got}`);
      return;
    }
    const bound = sizes[dim];
    if (bound === undefined) sizes[dim] = size;
    else if (bound !== size)
      throw new RangeError(
        `${where}: ${name} has ${dim} = ${size} (shape ${got}), but ${dim} = ${bound} in the tensors before it`,
      );
  });
  return value;
}

/** Bounds for `checkNumber`; each optional. */
export interface NumberRange {
  /** Smallest allowed value (inclusive). */
  min?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
  /** The value must be strictly below this. */
  below?: number;
  /** The value must be strictly above this. */
  above?: number;
  /** The value must be an integer. */
  integer?: boolean;
}

/**
 * Checks that a number argument is finite and within `range`.
 *
 * @returns the value
 * @throws RangeError - naming the argument, the value and the allowed range
 */
export function checkNumber(
  where: string,
  name: string,
  value: unknown,
  range: NumberRange = {},
): number {
  const { min, max, below, above, integer } = range;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (min === undefined || value >= min) &&
    (max === undefined || value <= max) &&
    (below === undefined || value < below) &&
    (above === undefined || value > above) &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    const bounds = [
      min === undefined ? '' : `>= ${min}`,
      above === undefined ? '' : `> ${above}`,
      max === undefined ? '' : `<= ${max}`,
      below === undefined ? '' : `< ${below}`,
    ]
      .filter(Boolean)
      .join(' and ');
    const kind = integer ? 'an integer' : 'a finite number';
    throw new RangeError(
      `${where}: ${name} must be ${kind}${bounds ? ` ${bounds}` : ''}, got ${describe(value)}`,
    );
  }
  return value as number;
}

/**
 * Checks that `value` is one of `choices`.
 *
 * @throws TypeError - naming the option, the value and the choices
 */
export function checkChoice<C extends string>(
  where: string,
  name: string,
  value: unknown,
  choices: readonly C[],
): C {
  if (!choices.includes(value as C))
    throw new TypeError(
      `${where}: ${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describe(value)}`,
    );
  return value as C;
}

function describe(value: unknown): string {
  if (value instanceof Tensor) return `a [${value.shape.join(', ')}] ${value.dtype} tensor`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
