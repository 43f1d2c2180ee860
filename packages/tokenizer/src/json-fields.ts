/**
 * Typed reads of a parsed JSON file, each naming the field's path on error
 * (`tokenizer.json: model.vocab["a"] must be a non-negative integer, got string "1"`).
 */
/** A parsed JSON object (a tokenizer.json or one of its parts). */
export type Json = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** A reader for one file: every error starts with the file's name. */
export class JsonFields {
  constructor(private readonly file: string) {}

  /** An error about the field at `path`. */
  error(path: string, message: string): Error {
    return new Error(`${this.file}: ${path} ${message}`);
  }

  private expect(path: string, expected: string, value: unknown): Error {
    return this.error(path, `must be ${expected}, got ${describe(value)}`);
  }

  object(value: unknown, path: string): Json {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw this.expect(path, 'an object', value);
    return value as Json;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) throw this.expect(path, 'an array', value);
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') throw this.expect(path, 'a string', value);
    return value;
  }

  /** A boolean; `fallback`, where given, when the field is absent or null. */
  boolean(value: unknown, path: string, fallback?: boolean): boolean {
    if ((value === undefined || value === null) && fallback !== undefined) return fallback;
    if (typeof value !== 'boolean') throw this.expect(path, 'a boolean', value);
    return value;
  }

  id(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
      throw this.expect(path, 'a non-negative integer', value);
    return value;
  }

  /** The `type` string of a component object. */
  type(value: Json, path: string): string {
    return this.string(value.type, `${path}.type`);
  }
}
