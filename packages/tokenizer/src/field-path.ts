/**
 * Fields of a JSON value named by the paths this package's errors use (`model.vocab["a"]`,
 * `added_tokens[0].id`): for fixtures and tests that change one field of a file.
 */
/** The keys and indices of a field path (`model.vocab["a"]` → `model`, `vocab`, `a`). */
function pathSegments(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  const segment = /\.?([A-Za-z_]\w*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  for (let m = segment.exec(path); m; m = segment.exec(path)) {
    segments.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : JSON.parse(m[3]!)));
    if (segment.lastIndex === path.length) return segments;
  }
  throw new Error(`field-path: cannot read the path ${JSON.stringify(path)}`);
}

/** A JSON value with the field at `path` set to `value`, or removed when `value` is undefined. */
export function withField(json: unknown, path: string, value: unknown): unknown {
  const copy = structuredClone(json) as Record<string | number, unknown>;
  const segments = pathSegments(path);
  let parent = copy;
  for (const key of segments.slice(0, -1)) parent = parent[key] as typeof parent;
  const last = segments.at(-1)!;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return copy;
}
