/**
 * Split patterns parsed into a tree, as the engine that runs them reads them: Oniguruma (Ruby
 * syntax), which Hugging Face `tokenizers` uses for a `tokenizer.json`'s `Split` patterns and
 * its ByteLevel regex, or Rust's `fancy-regex`, which tiktoken uses. The two differ in a few
 * places this parser follows (`X{n,m}+`, a bare `(?i)`, `\Z`); what the syntax means is
 * the translator's business (`pattern.ts`). A construct neither this parser nor the translation
 * supports is a SyntaxError naming it, never a silent approximation.
 */

/** The regex engine whose syntax and meaning a pattern follows. */
export type PatternEngine = 'oniguruma' | 'fancy-regex';

/** One member of a character set. */
export type SetItem =
  | { kind: 'range'; from: number; to: number }
  /** `\d \D \s \S \w \W \h \H` (upper case: the complement). */
  | { kind: 'class'; name: 'd' | 'D' | 's' | 'S' | 'w' | 'W' | 'h' | 'H' }
  | { kind: 'property'; name: string; negated: boolean }
  /** A set inside a set, `[a[bc]]`: their union. */
  | { kind: 'set'; negated: boolean; items: SetItem[] };

/** A node of a parsed pattern. Plain and capturing groups leave no node of their own. */
export type PatternNode =
  /** One code point; `caseless` inside `(?i)`. */
  | { kind: 'char'; cp: number; caseless: boolean }
  /**
   * A character set: `[...]` (`bracketed`), or `.` (`[^\n]`), `\d`, `\p{L}`, … (Oniguruma's
   * `\w` means more characters outside brackets than inside).
   */
  | { kind: 'set'; negated: boolean; items: SetItem[]; caseless: boolean; bracketed: boolean }
  /** `^ $` (the engine's meaning), `\A \z \Z`, `\b \B`. */
  | { kind: 'assert'; name: '^' | '$' | 'A' | 'z' | 'Z' | 'b' | 'B' }
  | { kind: 'look'; behind: boolean; negated: boolean; body: PatternNode }
  /** An atomic group `(?>...)`; a possessive quantifier is an atomic greedy one. */
  | { kind: 'atomic'; body: PatternNode }
  /** `text`: the repeated atom and its quantifier as the pattern writes them, for messages. */
  | { kind: 'repeat'; body: PatternNode; min: number; max: number; lazy: boolean; text: string }
  | { kind: 'seq'; items: PatternNode[] }
  | { kind: 'alt'; branches: PatternNode[] };

const CLASS_ESCAPES = 'dDsSwWhH';
const CONTROL_ESCAPES: Record<string, number> = { t: 9, n: 10, v: 11, f: 12, r: 13, a: 7, e: 27 };

/** Parses `src` as `engine` reads it. @throws SyntaxError - a construct outside the supported syntax */
export function parsePattern(src: string, engine: PatternEngine): PatternNode {
  return new Parser(src, engine).parse();
}

class Parser {
  private readonly cs: string[];
  private i = 0;

  constructor(
    private readonly src: string,
    private readonly engine: PatternEngine,
  ) {
    this.cs = [...src];
  }

  parse(): PatternNode {
    const node = this.alternation({ caseless: false });
    if (this.i < this.cs.length) throw this.error(`unbalanced ")" at ${this.i}`);
    return node;
  }

  private error(what: string): SyntaxError {
    return new SyntaxError(`pattern ${JSON.stringify(this.src)}: ${what}`);
  }

  private peek(offset = 0): string | undefined {
    return this.cs[this.i + offset];
  }

  private lookingAt(s: string): boolean {
    return this.cs.slice(this.i, this.i + [...s].length).join('') === s;
  }

  /** Alternatives up to an unmatched `)` or the end; `flags` is shared by them (a bare `(?i)`). */
  private alternation(flags: { caseless: boolean }): PatternNode {
    const branches = [this.sequence(flags)];
    while (this.peek() === '|') {
      this.i++;
      branches.push(this.sequence(flags));
    }
    return branches.length === 1 ? branches[0]! : { kind: 'alt', branches };
  }

  private sequence(flags: { caseless: boolean }): PatternNode {
    const items: PatternNode[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) {
      const bare = this.bareFlags();
      if (bare !== undefined) {
        if (this.engine === 'oniguruma') {
          // Oniguruma: the rest of the group, alternatives included, is one group with the flag.
          items.push(this.alternation({ caseless: bare }));
          break;
        }
        flags.caseless = bare; // Rust: the flag holds to the end of the group, across `|`
        continue;
      }
      const start = this.i;
      const atom = this.atom(flags.caseless);
      items.push(this.quantified(atom, start));
    }
    return items.length === 1 ? items[0]! : { kind: 'seq', items };
  }

  /** A bare `(?i)` / `(?-i)`: the case-insensitivity it sets; undefined when none is here. */
  private bareFlags(): boolean | undefined {
    const m = /^\(\?(-?)([a-zA-Z]+)\)/.exec(this.cs.slice(this.i, this.i + 12).join(''));
    if (!m) return undefined;
    if (m[2] !== 'i')
      throw this.error(`unsupported flags (?${m[1]}${m[2]}): only (?i) is supported`);
    this.i += m[0].length;
    return m[1] === '';
  }

  private atom(caseless: boolean): PatternNode {
    const c = this.peek()!;
    if (c === '(') return this.group(caseless);
    if (c === '[') return this.set(caseless);
    this.i++;
    if (c === '.')
      return { kind: 'set', negated: true, items: [range(10)], caseless: false, bracketed: false };
    if (c === '^' || c === '$') return { kind: 'assert', name: c };
    if (c === '\\') return this.escape(caseless);
    if ('*+?'.includes(c) || (c === '{' && this.countedRepeat(this.i - 1)))
      throw this.error(`nothing to repeat before "${c}" at ${this.i - 1}`);
    if (c === '{' && this.engine === 'fancy-regex')
      throw this.error(`a "{" that opens no repetition at ${this.i - 1} (write \\{)`);
    return { kind: 'char', cp: c.codePointAt(0)!, caseless };
  }

  private group(caseless: boolean): PatternNode {
    const at = this.i;
    this.i++; // (
    let kind: 'plain' | 'atomic' | 'look' = 'plain';
    let look = { behind: false, negated: false };
    const head = this.cs.slice(this.i, this.i + 12).join('');
    const flags = /^\?(-?)([a-zA-Z]+):/.exec(head);
    if (flags) {
      if (flags[2] !== 'i')
        throw this.error(
          `unsupported flags (?${flags[1]}${flags[2]}:...): only (?i:...) is supported`,
        );
      caseless = flags[1] === '';
      this.i += flags[0].length;
    } else if (head.startsWith('?:')) this.i += 2;
    else if (head.startsWith('?>')) {
      kind = 'atomic';
      this.i += 2;
    } else if (/^\?<?[=!]/.test(head)) {
      kind = 'look';
      const behind = head[1] === '<';
      look = { behind, negated: head[behind ? 2 : 1] === '!' };
      this.i += behind ? 3 : 2;
    } else if (/^\?(P?<[A-Za-z_]\w*>|'[A-Za-z_]\w*')/.test(head)) {
      // A named group; names only serve backreferences, which are not supported.
      this.i += /^\?(P?<[^>]*>|'[^']*')/.exec(head)![0].length;
    } else if (head.startsWith('?'))
      throw this.error(`unsupported group "(${head.slice(0, 3)}" at ${at}`);
    const body = this.alternation({ caseless });
    if (this.peek() !== ')') throw this.error(`unbalanced "(" at ${at}`);
    this.i++;
    if (kind === 'atomic') return { kind: 'atomic', body };
    if (kind === 'look') return { kind: 'look', ...look, body };
    return body;
  }

  /** Whether `{` at `at` opens a counted repetition (`{n}`, `{n,}`, `{n,m}`, Oniguruma's `{,m}`). */
  private countedRepeat(at: number): RegExpExecArray | null {
    const text = this.cs.slice(at, at + 24).join('');
    const m = /^\{(\d*)(,(\d*))?\}/.exec(text);
    if (!m || (m[1] === '' && (this.engine !== 'oniguruma' || !m[3]))) return null;
    return m;
  }

  private quantified(atom: PatternNode, start: number): PatternNode {
    const c = this.peek();
    let min: number;
    let max: number;
    let exact = false; // written {n}
    if (c === '?' || c === '*' || c === '+') {
      this.i++;
      [min, max] = c === '?' ? [0, 1] : [c === '*' ? 0 : 1, Infinity];
    } else {
      const m = c === '{' ? this.countedRepeat(this.i) : null;
      if (!m) return atom;
      this.i += m[0].length;
      exact = m[2] === undefined;
      min = Number(m[1] || 0);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (min > max) throw this.error(`repetition {${m[1]},${m[3]}} has min above max`);
    }
    if (atom.kind === 'assert' || atom.kind === 'look')
      throw this.error(`a quantifier on an assertion at ${this.i - 1}`);
    const text = () => this.cs.slice(start, this.i).join('');
    let node: PatternNode = { kind: 'repeat', body: atom, min, max, lazy: false, text: text() };
    const suffix = this.peek();
    if (suffix === '?' || suffix === '+') {
      this.i++;
      if (c === '{' && this.engine === 'oniguruma' && (suffix === '+' || exact)) {
        // Ruby syntax: `X{n,m}+` repeats `X{n,m}` one or more times, `X{n}?` makes it optional.
        const [outerMin, outerMax] = suffix === '+' ? [1, Infinity] : [0, 1];
        node = {
          kind: 'repeat',
          body: node,
          min: outerMin,
          max: outerMax,
          lazy: false,
          text: text(),
        };
      } else if (suffix === '?') node = { ...node, lazy: true, text: text() };
      else node = { kind: 'atomic', body: { ...node, text: text() } };
    }
    const next = this.peek();
    if (
      next === '*' ||
      next === '+' ||
      next === '?' ||
      (next === '{' && this.countedRepeat(this.i))
    )
      throw this.error(`a quantifier on a quantifier at ${this.i}`);
    return node;
  }

  /** An escape outside a set (`\` already read). */
  private escape(caseless: boolean): PatternNode {
    const c = this.peek();
    if (c === undefined) throw this.error('a pattern ending in "\\"');
    if (CLASS_ESCAPES.includes(c)) {
      this.i++;
      return set([{ kind: 'class', name: c as 'd' }], caseless);
    }
    if (c === 'p' || c === 'P') return set([this.property()], caseless);
    if (
      c === 'b' ||
      c === 'B' ||
      c === 'A' ||
      c === 'z' ||
      (c === 'Z' && this.engine === 'oniguruma')
    ) {
      this.i++;
      return { kind: 'assert', name: c };
    }
    return { kind: 'char', cp: this.escapedChar(), caseless };
  }

  /** The code point of a literal escape (`\n`, `\x41`, `\x{1F600}`, `\u0041`, `\.`). */
  private escapedChar(): number {
    const c = this.peek()!;
    this.i++;
    if (c in CONTROL_ESCAPES) return CONTROL_ESCAPES[c]!;
    if (c === '0' && !/\d/.test(this.peek() ?? '')) return 0;
    const hex = (re: RegExp) => {
      const m = re.exec(this.cs.slice(this.i, this.i + 10).join(''));
      if (!m) throw this.error(`a malformed \\${c} escape at ${this.i - 2}`);
      this.i += m[0].length;
      return Number.parseInt(m[1]!, 16);
    };
    if (c === 'x')
      return this.peek() === '{' ? hex(/^\{([0-9a-fA-F]{1,6})\}/) : hex(/^([0-9a-fA-F]{2})/);
    if (c === 'u') return hex(/^([0-9a-fA-F]{4})/);
    if (/[0-9]/.test(c))
      throw this.error(`backreferences and octal escapes (\\${c}) are not supported`);
    if (/[a-zA-Z]/.test(c)) throw this.error(`unsupported escape \\${c} at ${this.i - 2}`);
    return c.codePointAt(0)!;
  }

  /** `\p{Name}`, `\P{Name}`, Oniguruma's `\p{^Name}`, `\pL` (at the `p`). */
  private property(): SetItem {
    let negated = this.peek() === 'P';
    this.i++;
    let name: string;
    if (this.peek() === '{') {
      const end = this.cs.indexOf('}', this.i);
      if (end < 0) throw this.error(`an unclosed \\p{ at ${this.i - 2}`);
      name = this.cs.slice(this.i + 1, end).join('');
      this.i = end + 1;
      if (name.startsWith('^') && this.engine === 'oniguruma') {
        negated = !negated;
        name = name.slice(1);
      }
    } else name = this.cs[this.i++] ?? '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*(=[A-Za-z0-9_]+)?$/.test(name))
      throw this.error(`an unsupported property name "${name}"`);
    return { kind: 'property', name, negated };
  }

  /** A bracketed set `[...]`, nested sets included. POSIX classes and set operations are refused. */
  private set(caseless: boolean): PatternNode {
    const { negated, items } = this.setBody();
    return { kind: 'set', negated, items, caseless, bracketed: true };
  }

  private setBody(): { negated: boolean; items: SetItem[] } {
    const at = this.i;
    this.i++;
    const negated = this.peek() === '^';
    if (negated) this.i++;
    if (this.peek() === ']') throw this.error(`a "]" first in a set at ${at} (write \\])`);
    const items: SetItem[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw this.error(`an unclosed "[" at ${at}`);
      if (c === ']') break;
      if (
        this.lookingAt('[:') ||
        this.lookingAt('&&') ||
        this.lookingAt('--') ||
        this.lookingAt('~~')
      )
        throw this.error(`POSIX classes and set operations are not supported (at ${this.i})`);
      if (c === '[') {
        items.push({ kind: 'set', ...this.setBody() });
        continue;
      }
      const item = this.setMember();
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.i++;
        const to = this.setMember();
        if (item.kind !== 'range' || to.kind !== 'range' || item.from > to.from)
          throw this.error(`a malformed range in the set at ${at}`);
        items.push({ kind: 'range', from: item.from, to: to.to });
      } else items.push(item);
    }
    this.i++;
    return { negated, items };
  }

  private setMember(): SetItem {
    const c = this.peek()!;
    this.i++;
    if (c !== '\\') return range(c.codePointAt(0)!);
    const e = this.peek();
    if (e !== undefined && CLASS_ESCAPES.includes(e)) {
      this.i++;
      return { kind: 'class', name: e as 'd' };
    }
    if (e === 'p' || e === 'P') return this.property();
    if (e === 'b') throw this.error('\\b in a set is not supported');
    return range(this.escapedChar());
  }
}

function range(cp: number): SetItem {
  return { kind: 'range', from: cp, to: cp };
}

function set(items: SetItem[], caseless: boolean): PatternNode {
  return { kind: 'set', negated: false, items, caseless, bracketed: false };
}
