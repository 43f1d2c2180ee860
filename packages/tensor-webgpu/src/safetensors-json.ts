/**
 * The JSON reader of safetensors headers. It reads RFC 8259 JSON as strictly as serde_json 1.0,
 * the parser inside Hugging Face's reference reader, and keeps what `JSON.parse` loses: numbers
 * stay as their source text (a shape of `[1.0]` differs from `[1]`, and 2^64 − 1 stays exact),
 * an object keeps every entry in order (duplicate keys included), and nothing is decoded
 * leniently (a byte-order mark, a lone surrogate escape, nesting deeper than serde_json allows, or
 * a number serde_json calls out of range is an error).
 */

/** A parsed JSON value; `text` is its source text, exact for numbers and quoted in messages. */
export type JsonValue =
  | { kind: 'object'; text: string; entries: [key: string, value: JsonValue][] }
  | { kind: 'array'; text: string; items: JsonValue[] }
  | { kind: 'string'; text: string; value: string }
  | { kind: 'number'; text: string }
  | { kind: 'literal'; text: 'true' | 'false' | 'null' };

/** Text that is not JSON as serde_json reads it; the message ends with the line and column. */
export class JsonSyntaxError extends Error {}

/** serde_json refuses the 128th nested array or object. */
const MAX_DEPTH = 127;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** A run of string characters that need no decoding (JSON forbids raw U+0000–U+001F). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
const PLAIN = /[^"\\\u0000-\u001f]*/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};
const U64_MAX = 2n ** 64n - 1n;
const I32_MAX = 2 ** 31 - 1;

/**
 * Parses one JSON value, with only JSON whitespace (space, tab, line feed, carriage return)
 * around it.
 *
 * @throws JsonSyntaxError - what is wrong, at which line and column
 */
export function parseJson(text: string): JsonValue {
  const reader = new Reader(text);
  const value = reader.value();
  reader.skipSpace();
  if (reader.at < text.length) reader.fail('trailing characters after the JSON value');
  return value;
}

class Reader {
  at = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  fail(what: string, at = this.at): never {
    const before = this.text.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    throw new JsonSyntaxError(`${what} at line ${line}, column ${column}`);
  }

  skipSpace(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.at);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.at++;
    }
  }

  value(): JsonValue {
    this.skipSpace();
    const start = this.at;
    const c = this.text[start];
    if (c === '{' || c === '[') return this.container(c);
    if (c === '"') return { kind: 'string', value: this.string(), text: this.slice(start) };
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const text of ['true', 'false', 'null'] as const) {
      if (this.text.startsWith(text, start)) {
        this.at += text.length;
        return { kind: 'literal', text };
      }
    }
    if (c === undefined) this.fail('the text ends where a value should begin');
    if (c === '\ufeff') this.fail('a byte-order mark (U+FEFF) where a value should begin');
    this.fail(`${JSON.stringify(c)} where a value should begin`);
  }

  private slice(start: number): string {
    return this.text.slice(start, this.at);
  }

  private container(open: '{' | '['): JsonValue {
    const start = this.at;
    if (++this.depth > MAX_DEPTH) this.fail(`arrays and objects nested deeper than ${MAX_DEPTH}`);
    const close = open === '{' ? '}' : ']';
    const entries: [string, JsonValue][] = [];
    const items: JsonValue[] = [];
    this.at++;
    this.skipSpace();
    if (this.text[this.at] !== close) {
      for (;;) {
        if (open === '{') {
          this.skipSpace();
          if (this.text[this.at] !== '"') this.fail('expected a string key');
          const key = this.string();
          this.skipSpace();
          if (this.text[this.at] !== ':') this.fail('expected `:` after a key');
          this.at++;
          entries.push([key, this.value()]);
        } else items.push(this.value());
        this.skipSpace();
        if (this.text[this.at] === close) break;
        if (this.text[this.at] !== ',') this.fail(`expected \`,\` or \`${close}\``);
        this.at++;
      }
    }
    this.at++;
    this.depth--;
    const text = this.slice(start);
    return open === '{' ? { kind: 'object', text, entries } : { kind: 'array', text, items };
  }

  /** Reads a string from its opening quote, decoding escapes. */
  private string(): string {
    let out = '';
    this.at++;
    for (;;) {
      PLAIN.lastIndex = this.at;
      out += PLAIN.exec(this.text)![0];
      this.at = PLAIN.lastIndex;
      const c = this.text[this.at];
      if (c === '"') {
        this.at++;
        return out;
      }
      if (c === undefined) this.fail('unterminated string');
      if (c !== '\\') {
        const code = c.charCodeAt(0).toString(16).padStart(4, '0');
        this.fail(`control character U+${code.toUpperCase()} in a string (JSON needs it escaped)`);
      }
      out += this.escape();
    }
  }

  /** Decodes the escape at the backslash; a surrogate escape must pair high with low. */
  private escape(): string {
    const start = this.at;
    const c = this.text[this.at + 1] ?? '';
    if (c !== 'u') {
      if (!Object.hasOwn(ESCAPES, c)) this.fail(`invalid escape \\${c}`);
      this.at += 2;
      return ESCAPES[c]!;
    }
    const high = this.hex4();
    if (high >= 0xdc00 && high <= 0xdfff) this.fail('lone surrogate escape', start);
    if (high < 0xd800 || high > 0xdbff) return String.fromCharCode(high);
    if (!this.text.startsWith('\\u', this.at)) this.fail('lone surrogate escape', start);
    const low = this.hex4();
    if (low < 0xdc00 || low > 0xdfff) this.fail('lone surrogate escape', start);
    return String.fromCharCode(high, low);
  }

  /** Reads `\uXXXX` and returns the code unit. */
  private hex4(): number {
    const digits = this.text.slice(this.at + 2, this.at + 6);
    if (!HEX4.test(digits)) this.fail('invalid \\u escape');
    this.at += 6;
    return Number.parseInt(digits, 16);
  }

  private number(): JsonValue {
    NUMBER.lastIndex = this.at;
    const text = NUMBER.exec(this.text)?.[0];
    if (text === undefined) this.fail('invalid number');
    if (outOfRange(text)) this.fail(`number ${text} out of range`);
    this.at += text.length;
    return { kind: 'number', text };
  }
}

/**
 * Whether serde_json 1.0 calls a JSON number out of range, bit for bit as it decides (built
 * without its `float_roundtrip` feature, as the reference reader is): it keeps the leading digits
 * that fit in an unsigned 64-bit significand (later integer digits raise the exponent, later
 * fraction digits are dropped), converts that to f64 and multiplies by the f64 power of ten. A
 * nonzero significand is out of range when the power is above 10^308 or the product is infinite,
 * so `1.7976931348623158e308`, which `JSON.parse` rounds down to the largest double, is out of
 * range here as there. An exponent past 2^31 − 1 is out of range unless the significand is zero
 * or the exponent negative.
 */
function outOfRange(text: string): boolean {
  if (/^-?\d{1,19}$/.test(text)) return false; // fits in 64 bits: the common case, decided early
  const [, int, fraction = '', sign, power] = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?)(\d+))?$/.exec(
    text,
  )!;
  let significand = 0n;
  let exponent = 0;
  let full = false;
  for (const digit of int!) {
    const next = significand * 10n + BigInt(digit);
    full ||= next > U64_MAX;
    if (full) exponent++;
    else significand = next;
  }
  for (const digit of fraction) {
    const next = significand * 10n + BigInt(digit);
    if (next > U64_MAX) break;
    significand = next;
    exponent--;
  }
  let e = 0;
  for (const digit of power ?? '') {
    e = e * 10 + Number(digit);
    if (e > I32_MAX) return significand !== 0n && sign !== '-';
  }
  exponent += sign === '-' ? -e : e;
  if (significand === 0n || exponent < 0) return false;
  return exponent > 308 || !Number.isFinite(Number(significand) * Number(`1e${exponent}`));
}
