import type { LogitsProcessor } from '@tessera/sampler';
import { type GrammarNode, minLength, requiredLength } from './json-grammar.js';

/**
 * Constrained decoding of JSON against a grammar (`json-grammar.ts`): a parser that reads UTF-8
 * bytes one at a time and, before each token, masks every token whose bytes the grammar cannot
 * continue with — the way llama.cpp's grammars and vLLM's structured output (outlines,
 * xgrammar) mask logits. It also guarantees that the text can be finished within the token
 * budget: a token is allowed only if the shortest completion after it still fits, so a
 * constrained value is always complete and valid by `maxTokens` (one token per byte suffices in
 * a byte-level BPE vocabulary, which has a token for every byte).
 *
 * The parser's state is a set of threads (alternatives of `anyOf`, enum values, keys, a number
 * that may end or go on); each thread is an immutable stack of frames, so trying a token copies
 * nothing but the frames it changes.
 */

type NumberPhase = 'minus' | 'zero' | 'int' | 'dot' | 'frac' | 'e' | 'sign' | 'exp';

type Frame =
  /** A value of `node` starts at the next byte. */
  | { t: 'value'; node: GrammarNode }
  /** The rest of a fixed text (a literal, a key and its colon). */
  | { t: 'lit'; bytes: Uint8Array; pos: number }
  /**
   * Inside a string: code points so far, UTF-8 continuation bytes owed and the range of the
   * next one (RFC 3629: no overlong forms, surrogates or code points past U+10FFFF), escape
   * state (-1 after a backslash, k > 0 while k hex digits of a \u escape are owed).
   */
  | {
      t: 'str';
      min: number;
      max: number;
      len: number;
      owed: number;
      lo: number;
      hi: number;
      esc: number;
    }
  | { t: 'num'; integer: boolean; phase: NumberPhase }
  /** An object with ordered properties; the next may be any from `next` to the first required. */
  | { t: 'obj'; node: Extract<GrammarNode, { kind: 'object' }>; next: number; written: boolean }
  | { t: 'anyObj'; written: boolean }
  | { t: 'arr'; items: GrammarNode; min: number; max: number; count: number }
  /** Up to `left` spaces or line breaks may come first. */
  | { t: 'ws'; left: number };

/** A parse thread: a stack of frames, top first; `null` is a complete value. */
type Stack = { frame: Frame; below: Stack } | null;

const ANY: GrammarNode = { kind: 'any' };
const ANY_OPTIONS: GrammarNode[] = [
  { kind: 'anyObject' },
  { kind: 'array', items: ANY, min: 0, max: Number.POSITIVE_INFINITY },
  { kind: 'string', min: 0, max: Number.POSITIVE_INFINITY },
  { kind: 'number', integer: false },
  { kind: 'literal', texts: ['true', 'false', 'null'].map((t) => new TextEncoder().encode(t)) },
];

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = new Uint8Array([0x3a]);
const OPEN_QUOTE = new Uint8Array([QUOTE]);
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
const isHex = (b: number) => isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
const ESCAPES = new Set(Array.from('"\\/bfnrt', (c) => c.charCodeAt(0)));

/** Inside a string of any length (a key of an object with any keys). */
const ANY_STRING: Extract<Frame, { t: 'str' }> = {
  t: 'str',
  min: 0,
  max: Number.POSITIVE_INFINITY,
  len: 0,
  owed: 0,
  lo: 0x80,
  hi: 0xbf,
  esc: 0,
};

const push = (frame: Frame, below: Stack): Stack => ({ frame, below });

/** A value of `node` begins with byte `b`: the threads after it. */
function start(node: GrammarNode, b: number, below: Stack): Stack[] {
  switch (node.kind) {
    case 'any':
      return ANY_OPTIONS.flatMap((n) => start(n, b, below));
    case 'anyOf':
      return node.options.flatMap((n) => start(n, b, below));
    case 'literal':
      return node.texts
        .filter((t) => t[0] === b)
        .map((t) => (t.length === 1 ? below : push({ t: 'lit', bytes: t, pos: 1 }, below)));
    case 'string':
      return b === QUOTE
        ? [push({ ...ANY_STRING, min: node.min, max: node.max } as Frame, below)]
        : [];
    case 'number': {
      const phase = b === 0x2d ? 'minus' : b === 0x30 ? 'zero' : isDigit(b) ? 'int' : undefined;
      return phase ? [push({ t: 'num', integer: node.integer, phase }, below)] : [];
    }
    case 'object':
      return b === 0x7b ? [push({ t: 'obj', node, next: 0, written: false }, below)] : [];
    case 'anyObject':
      return b === 0x7b ? [push({ t: 'anyObj', written: false }, below)] : [];
    case 'array':
      return b === 0x5b
        ? [push({ t: 'arr', items: node.items, min: node.min, max: node.max, count: 0 }, below)]
        : [];
  }
}

/** The threads after feeding byte `b` to `stack`. */
function feed(stack: Stack, b: number): Stack[] {
  if (stack === null) return []; // the value is complete: nothing may follow
  const { frame: f, below } = stack;
  switch (f.t) {
    case 'value':
      return start(f.node, b, below);
    case 'ws':
      return [
        ...((b === 0x20 || b === 0x0a) && f.left > 0
          ? [push({ t: 'ws', left: f.left - 1 }, below)]
          : []),
        ...feed(below, b),
      ];
    case 'lit':
      if (f.bytes[f.pos] !== b) return [];
      return f.pos + 1 === f.bytes.length ? [below] : [push({ ...f, pos: f.pos + 1 }, below)];
    case 'str':
      return stringByte(f, b, below);
    case 'num':
      return numberByte(f, b, below);
    case 'obj':
      return objectByte(f, b, below);
    case 'anyObj': {
      if (b === 0x7d) return [below];
      const value = push({ t: 'value', node: ANY }, push({ t: 'anyObj', written: true }, below));
      const key = push(ANY_STRING, push({ t: 'lit', bytes: COLON, pos: 0 }, value));
      if (!f.written && b === QUOTE) return [key];
      if (f.written && b === COMMA) return [push({ t: 'lit', bytes: OPEN_QUOTE, pos: 0 }, key)];
      return [];
    }
    case 'arr': {
      if (b === 0x5d) return f.count >= f.min ? [below] : [];
      if (f.count === 0) return f.max > 0 ? start(f.items, b, push({ ...f, count: 1 }, below)) : [];
      return b === COMMA && f.count < f.max
        ? [push({ t: 'value', node: f.items }, push({ ...f, count: f.count + 1 }, below))]
        : [];
    }
  }
}

/** The range of the byte after a UTF-8 lead byte, where it is narrower than 80..BF. */
const FIRST_CONTINUATION: Record<number, { lo: number; hi: number }> = {
  224: { lo: 0xa0, hi: 0xbf }, // no overlong 3-byte forms
  237: { lo: 0x80, hi: 0x9f }, // no surrogates
  240: { lo: 0x90, hi: 0xbf }, // no overlong 4-byte forms
  244: { lo: 0x80, hi: 0x8f }, // nothing past U+10FFFF
};

function stringByte(f: Extract<Frame, { t: 'str' }>, b: number, below: Stack): Stack[] {
  const next = (change: Partial<typeof f>) => [push({ ...f, ...change }, below)];
  if (f.esc === -1) return ESCAPES.has(b) ? next({ esc: 0 }) : b === 0x75 ? next({ esc: 4 }) : [];
  if (f.esc > 0) return isHex(b) ? next({ esc: f.esc - 1 }) : [];
  if (f.owed > 0)
    return b >= f.lo && b <= f.hi ? next({ owed: f.owed - 1, lo: 0x80, hi: 0xbf }) : [];
  if (b === QUOTE) return f.len >= f.min ? [below] : [];
  if (b < 0x20 || f.len >= f.max) return [];
  if (b === BACKSLASH) return next({ esc: -1, len: f.len + 1 });
  if (b < 0x80) return next({ len: f.len + 1 });
  if (b < 0xc2 || b > 0xf4) return [];
  const owed = b < 0xe0 ? 1 : b < 0xf0 ? 2 : 3;
  return next({ len: f.len + 1, owed, ...FIRST_CONTINUATION[b] });
}

const NUMBER_ENDS: ReadonlySet<NumberPhase> = new Set(['zero', 'int', 'frac', 'exp']);

function numberByte(f: Extract<Frame, { t: 'num' }>, b: number, below: Stack): Stack[] {
  const go = (phase: NumberPhase) => [push({ ...f, phase }, below)];
  const digit = isDigit(b);
  const dot = b === 0x2e && !f.integer;
  const e = (b === 0x65 || b === 0x45) && !f.integer;
  let out: Stack[] = [];
  switch (f.phase) {
    case 'minus':
      out = b === 0x30 ? go('zero') : digit ? go('int') : [];
      break;
    case 'zero':
      out = dot ? go('dot') : e ? go('e') : [];
      break;
    case 'int':
      out = digit ? go('int') : dot ? go('dot') : e ? go('e') : [];
      break;
    case 'dot':
      out = digit ? go('frac') : [];
      break;
    case 'frac':
      out = digit ? go('frac') : e ? go('e') : [];
      break;
    case 'e':
      out = b === 0x2b || b === 0x2d ? go('sign') : digit ? go('exp') : [];
      break;
    case 'sign':
    case 'exp':
      out = digit ? go('exp') : [];
      break;
  }
  // A number has no closing byte: where it may end, the byte may belong to what follows.
  return NUMBER_ENDS.has(f.phase) ? [...out, ...feed(below, b)] : out;
}

function objectByte(f: Extract<Frame, { t: 'obj' }>, b: number, below: Stack): Stack[] {
  const { properties } = f.node;
  const candidates: number[] = [];
  for (let j = f.next; j < properties.length; j++) {
    candidates.push(j);
    if (properties[j]!.required) break;
  }
  const mayClose = requiredLength(properties, f.next, false) === 0;
  if (b === 0x7d) return mayClose ? [below] : [];
  const opens = f.written ? b === COMMA : b === QUOTE;
  if (!opens) return [];
  return candidates.map((j) => {
    const p = properties[j]!;
    const after = push({ ...f, next: j + 1, written: true }, below);
    return push(
      { t: 'lit', bytes: p.prefix, pos: f.written ? 0 : 1 },
      push({ t: 'value', node: p.node }, after),
    );
  });
}

/** The fewest bytes that complete the value from this thread. */
function remaining(stack: Stack): number {
  let n = 0;
  for (let s = stack; s !== null; s = s.below) n += frameRemaining(s.frame);
  return n;
}

function frameRemaining(f: Frame): number {
  switch (f.t) {
    case 'value':
      return minLength(f.node);
    case 'ws':
      return 0;
    case 'lit':
      return f.bytes.length - f.pos;
    case 'str':
      return f.owed + (f.esc === -1 ? 1 : Math.max(f.esc, 0)) + Math.max(0, f.min - f.len) + 1;
    case 'num':
      return NUMBER_ENDS.has(f.phase) ? 0 : 1;
    case 'obj':
      return requiredLength(f.node.properties, f.next, f.written) + 1;
    case 'anyObj':
      return 1;
    case 'arr': {
      const owed = Math.max(0, f.min - f.count);
      const commas = f.count === 0 ? Math.max(0, owed - 1) : owed;
      return owed * minLength(f.items) + commas + 1;
    }
  }
}

/** A thread that holds a complete value (a number at the end may still go on). */
function complete(stack: Stack): boolean {
  return remaining(stack) === 0 && (stack === null || stack.below === null);
}

/**
 * One JSON value decoded under a grammar. `vocabulary[id]` is the UTF-8 of token `id`, or
 * undefined for a token that may never appear in the value (special tokens). Call `mask` before
 * each token and `advance` with the token chosen; `done` says the value is complete.
 */
export class JsonConstraint {
  private threads: Stack[];
  private readonly bytes: number[] = [];

  /** `leadingWhitespace`: spaces or line breaks the value may start with (after a trigger). */
  constructor(
    readonly root: GrammarNode,
    private readonly vocabulary: readonly (Uint8Array | undefined)[],
    options: { leadingWhitespace?: number } = {},
  ) {
    const value = push({ t: 'value', node: root }, null);
    const ws = options.leadingWhitespace ?? 0;
    this.threads = [ws > 0 ? push({ t: 'ws', left: ws }, value) : value];
  }

  /** The fewest tokens that complete the value (one per byte). */
  get shortest(): number {
    return Math.min(...this.threads.map(remaining));
  }

  /** The value is complete: no byte can follow (or only digits of a final number). */
  get done(): boolean {
    return this.threads.some(complete);
  }

  /** The text of the value so far. */
  get text(): string {
    return new TextDecoder().decode(Uint8Array.from(this.bytes));
  }

  /** The threads after `bytes`, or an empty list when the grammar rejects them. */
  private after(bytes: Uint8Array): Stack[] {
    let threads = this.threads;
    for (const b of bytes) {
      threads = threads.flatMap((s) => feed(s, b));
      if (threads.length === 0) break;
    }
    return threads;
  }

  /**
   * Whether token `id` may come next with `budget` tokens left (this one included): its bytes
   * continue the value and the value can still be completed in the rest of the budget.
   */
  allows(id: number, budget: number): boolean {
    const bytes = this.vocabulary[id];
    if (!bytes || bytes.length === 0) return false;
    const threads = this.after(bytes);
    return threads.some((s) => remaining(s) <= budget - 1);
  }

  /** Sets the logits of the tokens `allows` refuses to −∞. */
  mask(logits: Float32Array, budget: number): void {
    for (let id = 0; id < logits.length; id++)
      if (logits[id] !== Number.NEGATIVE_INFINITY && !this.allows(id, budget))
        logits[id] = Number.NEGATIVE_INFINITY;
  }

  /** Feeds the chosen token. Throws if the grammar refuses it (a caller that ignored `mask`). */
  advance(id: number): void {
    const bytes = this.vocabulary[id];
    if (!bytes || !this.advanceBytes(bytes))
      throw new Error(`JsonConstraint: token ${id} does not continue ${JSON.stringify(this.text)}`);
  }

  /** Feeds text that came before the constraint took over; false (and no change) if it does not fit. */
  advanceBytes(bytes: Uint8Array): boolean {
    const threads = this.after(bytes);
    if (threads.length === 0) return false;
    this.threads = threads;
    this.bytes.push(...bytes);
    return true;
  }

  /** A logits processor that masks by this constraint, with the budget `budget(step)` gives. */
  processor(budget: (step: number) => number): LogitsProcessor {
    return (logits, ctx) => this.mask(logits, budget(ctx.step));
  }
}
