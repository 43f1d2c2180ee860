/**
 * Global state of eager execution: the tidy() scope stack and whether autograd records.
 * Kept in one small module so every other file reads the same flags.
 */
/** Anything `tidy()` can track and dispose: tensors. */
export interface Trackable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const scopes: Set<Trackable>[] = [];
let gradEnabled = true;

export function track(t: Trackable): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Removes a tensor from every open scope, so that tidy() will not dispose it. */
export function keep<T extends Trackable>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

/** Collects the tensors found in a (possibly nested) result value. */
function collect(value: unknown, out: Set<Trackable>): void {
  if (value && typeof value === 'object') {
    if ('dispose' in value && 'isDisposed' in value) out.add(value as Trackable);
    else if (Array.isArray(value)) for (const v of value) collect(v, out);
    else if (Object.getPrototypeOf(value) === Object.prototype)
      for (const v of Object.values(value)) collect(v, out);
  }
}

/**
 * Runs `fn` and disposes every tensor it created, except those it returns (in an array or a
 * plain object) and those passed to `keep()`. Returned tensors join the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Trackable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) {
    throw new TypeError(
      'tidy(fn): fn must be synchronous; await outside tidy and keep() what you need',
    );
  }
  const returned = new Set<Trackable>();
  collect(result, returned);
  for (const t of scope) if (!returned.has(t)) t.dispose();
  for (const t of returned) track(t);
  return result;
}

/** Whether operations are recorded for autograd here (false inside `noGrad`), like `torch.is_grad_enabled()`. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording operations for autograd (like `torch.no_grad()`). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}
