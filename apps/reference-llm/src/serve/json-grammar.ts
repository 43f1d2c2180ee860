/**
 * JSON Schema → a grammar of JSON text, compiled for constrained decoding (`json-constraint.ts`).
 *
 * The grammar accepts compact JSON (no whitespace) whose value fits the schema's structure:
 * `type` (one or a list), `enum`, `const`, `properties` in their declared order with `required`
 * ones present (no other keys, even where the schema would allow them), `items`, `minItems` /
 * `maxItems`, `minLength` / `maxLength`, `anyOf` / `oneOf`, and `{}` or `true` for any value. It
 * is a subset of what the schema accepts. An integer with both `minimum` and `maximum` (at most
 * `MAX_INTEGER_RANGE` values) becomes the enum of its values. Every other keyword the grammar
 * does not encode is refused — value checks (`pattern`, `format`, `multipleOf`, `uniqueItems`,
 * other bounds) and structure (`$ref`, `allOf`, `not`, `if`, `patternProperties`,
 * `prefixItems`) — so every value the grammar accepts is one the schema (ajv) accepts: a
 * required tool call is always valid, never an error after decoding.
 */

/** A node of the grammar. */
export type GrammarNode =
  | { kind: 'any' }
  | { kind: 'string'; min: number; max: number }
  | { kind: 'number'; integer: boolean }
  /** One of several fixed JSON texts (enum, const, true/false, null), as UTF-8. */
  | { kind: 'literal'; texts: Uint8Array[] }
  | { kind: 'object'; properties: GrammarProperty[] }
  /** An object with any keys and values (a schema of type object without `properties`). */
  | { kind: 'anyObject' }
  | { kind: 'array'; items: GrammarNode; min: number; max: number }
  | { kind: 'anyOf'; options: GrammarNode[] };

export interface GrammarProperty {
  /** The key's JSON text followed by the colon, e.g. `"city":`, as UTF-8. */
  prefix: Uint8Array;
  node: GrammarNode;
  required: boolean;
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const literal = (...values: unknown[]): GrammarNode => ({
  kind: 'literal',
  texts: values.map((v) => utf8(JSON.stringify(v))),
});

const REFUSED = [
  '$ref',
  'allOf',
  'not',
  'if',
  'patternProperties',
  'prefixItems',
  'pattern',
  'format',
  'multipleOf',
  'uniqueItems',
  'exclusiveMinimum',
  'exclusiveMaximum',
] as const;

/** The most values an integer's `minimum`..`maximum` may span (each becomes an enum value). */
export const MAX_INTEGER_RANGE = 256;
const TYPES = ['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'] as const;

/** A schema error: the message names the schema path (`arguments.properties.city`). */
export class SchemaError extends Error {}

/**
 * Compiles a JSON Schema into a grammar node. Throws a `SchemaError` naming the path for a
 * keyword that changes the structure and is not supported, an unknown `type`, and a schema that
 * no JSON value satisfies (an empty `enum`, `false`).
 */
export function compileSchema(schema: unknown, path = 'schema'): GrammarNode {
  if (schema === true) return { kind: 'any' };
  if (schema === false) throw new SchemaError(`${path} is false: no value satisfies it`);
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema))
    throw new SchemaError(`${path} must be an object or a boolean, got ${JSON.stringify(schema)}`);
  const s = schema as Record<string, unknown>;
  for (const key of REFUSED)
    if (key in s)
      throw new SchemaError(
        `${path} uses "${key}", which constrained decoding does not support (the grammar could give a value the schema rejects)`,
      );
  if ('const' in s) return literal(s.const);
  if ('enum' in s) {
    if (!Array.isArray(s.enum) || s.enum.length === 0)
      throw new SchemaError(`${path}.enum must be a non-empty array`);
    return literal(...s.enum);
  }
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives !== undefined) {
    const key = 'anyOf' in s ? 'anyOf' : 'oneOf';
    if (!Array.isArray(alternatives) || alternatives.length === 0)
      throw new SchemaError(`${path}.${key} must be a non-empty array`);
    return {
      kind: 'anyOf',
      options: alternatives.map((a, i) => compileSchema(a, `${path}.${key}[${i}]`)),
    };
  }
  const type = s.type;
  if (type === undefined) {
    if (s.properties !== undefined) return compileType('object', s, path);
    if (s.items !== undefined) return compileType('array', s, path);
    return { kind: 'any' };
  }
  const types = Array.isArray(type) ? type : [type];
  if (types.length === 0) throw new SchemaError(`${path}.type is an empty list`);
  const nodes = types.map((t) => compileType(t, s, path));
  return nodes.length === 1 ? nodes[0]! : { kind: 'anyOf', options: nodes };
}

function compileType(type: unknown, s: Record<string, unknown>, path: string): GrammarNode {
  if (!TYPES.includes(type as (typeof TYPES)[number]))
    throw new SchemaError(
      `${path}.type ${JSON.stringify(type)} is not a JSON Schema type (${TYPES.join(', ')})`,
    );
  switch (type) {
    case 'string':
      return {
        kind: 'string',
        min: count(s.minLength, 0, `${path}.minLength`),
        max: count(s.maxLength, Number.POSITIVE_INFINITY, `${path}.maxLength`),
      };
    case 'number':
    case 'integer':
      return compileNumber(type, s, path);
    case 'boolean':
      return literal(true, false);
    case 'null':
      return literal(null);
    case 'array':
      return {
        kind: 'array',
        items: s.items === undefined ? { kind: 'any' } : compileSchema(s.items, `${path}.items`),
        min: count(s.minItems, 0, `${path}.minItems`),
        max: count(s.maxItems, Number.POSITIVE_INFINITY, `${path}.maxItems`),
      };
    default:
      return compileObject(s, path);
  }
}

function compileNumber(type: 'number' | 'integer', s: Record<string, unknown>, path: string) {
  const { minimum: lo, maximum: hi } = s;
  if (lo === undefined && hi === undefined)
    return { kind: 'number', integer: type === 'integer' } as const;
  const bounded =
    type === 'integer' &&
    Number.isInteger(lo) &&
    Number.isInteger(hi) &&
    (lo as number) <= (hi as number);
  if (!bounded || (hi as number) - (lo as number) + 1 > MAX_INTEGER_RANGE)
    throw new SchemaError(
      `${path} uses "minimum"/"maximum", which constrained decoding supports only on an integer with both bounds spanning at most ${MAX_INTEGER_RANGE} values (got ${type} ${JSON.stringify(lo)}..${JSON.stringify(hi)}); use "enum" for other sets`,
    );
  return literal(
    ...Array.from({ length: (hi as number) - (lo as number) + 1 }, (_, i) => (lo as number) + i),
  );
}

function compileObject(s: Record<string, unknown>, path: string): GrammarNode {
  const { properties, required = [] } = s as { properties?: unknown; required?: unknown };
  if (!Array.isArray(required) || required.some((r) => typeof r !== 'string'))
    throw new SchemaError(`${path}.required must be an array of property names`);
  if (properties === undefined) {
    if (required.length)
      throw new SchemaError(`${path}.required names properties that "properties" does not define`);
    return s.additionalProperties === false ? literal({}) : { kind: 'anyObject' };
  }
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties))
    throw new SchemaError(`${path}.properties must be an object`);
  const names = Object.keys(properties);
  for (const r of required)
    if (!names.includes(r as string))
      throw new SchemaError(`${path}.required names "${r}", which "properties" does not define`);
  return {
    kind: 'object',
    properties: names.map((name) => ({
      prefix: utf8(`${JSON.stringify(name)}:`),
      node: compileSchema(
        (properties as Record<string, unknown>)[name],
        `${path}.properties.${name}`,
      ),
      required: required.includes(name),
    })),
  };
}

function count(value: unknown, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < 0)
    throw new SchemaError(`${path} must be an integer >= 0, got ${JSON.stringify(value)}`);
  return value as number;
}

const minLengths = new WeakMap<GrammarNode, number>();

/** The length in bytes of the shortest JSON text the node accepts. */
export function minLength(node: GrammarNode): number {
  const known = minLengths.get(node);
  if (known !== undefined) return known;
  let n: number;
  switch (node.kind) {
    case 'any':
    case 'number':
      n = 1; // 0
      break;
    case 'string':
      n = 2 + node.min;
      break;
    case 'literal':
      n = Math.min(...node.texts.map((t) => t.length));
      break;
    case 'anyObject':
      n = 2;
      break;
    case 'object':
      n = 1 + requiredLength(node.properties, 0, false) + 1;
      break;
    case 'array':
      n = 2 + node.min * minLength(node.items) + Math.max(0, node.min - 1);
      break;
    case 'anyOf':
      n = Math.min(...node.options.map(minLength));
      break;
  }
  minLengths.set(node, n);
  return n;
}

/**
 * Bytes the required properties from index `from` on need at least, with their commas;
 * `written` when a property has been written already (so the next one needs a comma).
 */
export function requiredLength(
  properties: readonly GrammarProperty[],
  from: number,
  written: boolean,
): number {
  let n = 0;
  let comma = written;
  for (const p of properties.slice(from)) {
    if (!p.required) continue;
    n += (comma ? 1 : 0) + p.prefix.length + minLength(p.node);
    comma = true;
  }
  return n;
}
