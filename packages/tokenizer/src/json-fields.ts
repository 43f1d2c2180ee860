/**
 * Typed reads of a parsed JSON file, each naming the field's path on error
 * (`tokenizer.json: model.vocab["a"] must be an integer from 0 to 4294967295 (u32), got string "1"`).
 * The types are those of a Rust (serde) reader: `u32` and `usize` integers, `f32` numbers,
 * required fields, `Option` fields that may be missing or null, fields with a default that may
 * be missing but not null, and enum variants.
 */
/** A parsed JSON object (a tokenizer.json or one of its parts). */
export type Json = Record<string, unknown>;

const U32_MAX = 2 ** 32 - 1;

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

  boolean(value: unknown, path: string): boolean {
    if (typeof value !== 'boolean') throw this.expect(path, 'a boolean', value);
    return value;
  }

  /** A number (Rust `f32`). */
  number(value: unknown, path: string): number {
    if (typeof value !== 'number') throw this.expect(path, 'a number', value);
    return value;
  }

  /** An integer from 0 to 2³² − 1 (Rust `u32`: token ids, type ids). */
  u32(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > U32_MAX)
      throw this.expect(path, `an integer from 0 to ${U32_MAX} (u32)`, value);
    return value;
  }

  /** A non-negative integer below 2⁶⁴ (Rust `usize`: lengths). */
  usize(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= 2 ** 64)
      throw this.expect(path, 'a non-negative integer (usize)', value);
    return value;
  }

  /** A Rust `Option`: undefined when the field is missing or null, else `read`'s value. */
  optional<T>(value: unknown, read: (value: unknown) => T): T | undefined {
    return value === undefined || value === null ? undefined : read(value);
  }

  /** A field with a default: `fallback` when missing (null is not missing), else `read`'s value. */
  withDefault<T>(value: unknown, fallback: T, read: (value: unknown) => T): T {
    return value === undefined ? fallback : read(value);
  }

  /**
   * A unit variant of a Rust enum: its name as a string, or (as serde also reads it) an object
   * holding only that name with null (`{"Isolated": null}`).
   */
  variant<T extends string>(value: unknown, path: string, names: readonly T[]): T {
    let name = value;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && (value as Json)[keys[0]!] === null) name = keys[0];
    }
    if (typeof name !== 'string' || !names.includes(name as T))
      throw this.expect(path, `one of ${names.map((n) => JSON.stringify(n)).join(', ')}`, value);
    return name as T;
  }

  /** The `type` string of a component object. */
  type(value: Json, path: string): string {
    return this.string(value.type, `${path}.type`);
  }

  /** The error for a component of a type this package does not implement (`context`: with what). */
  unsupported(path: string, type: unknown, context = ''): Error {
    return this.error(`${path}.type`, `${JSON.stringify(type)} is not supported${context}`);
  }
}
