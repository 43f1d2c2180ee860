/**
 * A parsed split pattern written as JavaScript RegExp source, with the meaning its engine gives
 * it (see `pattern.ts` for what changes).
 */
import { caseOrbit, multiCharFold, multiCharFoldTargets } from './case-fold.js';
import type { PatternEngine, PatternNode, SetItem } from './pattern-syntax.js';

/**
 * Word characters as JavaScript set members: Unicode's (UTS #18), with Join_Control (U+200C,
 * U+200D) in fancy-regex; Oniguruma's Latin-1 table also counts ² ³ ¹ ¼ ½ ¾, for `\w`, `\W`, `\b`
 * and `\B` outside brackets only.
 */
function wordMembers(engine: PatternEngine, bracketed: boolean): string {
  const unicode = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}';
  if (engine === 'fancy-regex') return `${unicode}\\p{Join_Control}`;
  return bracketed ? unicode : `${unicode}²³¹¼-¾`;
}

/** A class escape as JavaScript set members, and whether the escape means their complement. */
function classMembers(name: string, engine: PatternEngine, bracketed: boolean): [string, boolean] {
  switch (name) {
    case 'd':
    case 'D':
      return [`\\${name === 'd' ? 'p' : 'P'}{Nd}`, false];
    case 's':
    case 'S':
      return [`\\${name === 's' ? 'p' : 'P'}{White_Space}`, false];
    case 'h':
    case 'H':
      return ['0-9A-Fa-f', name === 'H'];
    default:
      return [wordMembers(engine, bracketed), name === 'W'];
  }
}

function isValidJs(source: string): boolean {
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
}

/** `\p{name}` as JavaScript spells it: a bare script name (both engines mean the Script) needs `Script=`. */
function propertyMember(name: string, negated: boolean): string {
  const p = negated ? 'P' : 'p';
  for (const spelt of name.includes('=') ? [name] : [name, `Script=${name}`])
    if (isValidJs(`\\${p}{${spelt}}`)) return `\\${p}{${spelt}}`;
  throw new SyntaxError(`pattern: unknown Unicode property \\${p}{${name}}`);
}

/** A code point written for a JavaScript `u` pattern, in a set or not. */
function literal(cp: number, inSet: boolean): string {
  const c = String.fromCodePoint(cp);
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp === 0x2028 || cp === 0x2029)
    return `\\u{${cp.toString(16)}}`;
  return (inSet ? /[\\\][^-]/ : /[\\^$.*+?()[\]{}|/]/).test(c) ? `\\${c}` : c;
}

/** Refuses a case-insensitive character that Oniguruma would also match to several characters. */
function checkMultiFold(cp: number, engine: PatternEngine): void {
  const fold = engine === 'oniguruma' ? multiCharFold(cp) : undefined;
  if (fold !== undefined)
    throw new SyntaxError(
      `pattern: a case-insensitive ${JSON.stringify(String.fromCodePoint(cp))}, which Oniguruma also matches to ${JSON.stringify(fold)}, is not supported`,
    );
}

/** A range as JavaScript set members; case-insensitive, with every character that folds alike. */
function rangeMembers(
  item: Extract<SetItem, { kind: 'range' }>,
  caseless: boolean,
  engine: PatternEngine,
): string {
  let out = literal(item.from, true);
  if (item.to > item.from) out += `-${literal(item.to, true)}`;
  if (!caseless) return out;
  for (let cp = item.from; cp <= item.to; cp++) {
    checkMultiFold(cp, engine);
    for (const other of caseOrbit(cp))
      if (other < item.from || other > item.to) out += literal(other, true);
  }
  return out;
}

/** A set's members as JavaScript set members, and the member lists it holds the complements of (`\W`, `[^a]` inside a set). */
interface Members {
  members: string;
  complements: string[];
}

function gather(
  items: readonly SetItem[],
  node: Extract<PatternNode, { kind: 'set' }>,
  engine: PatternEngine,
  out: Members,
): Members {
  for (const item of items) {
    if (item.kind === 'range') out.members += rangeMembers(item, node.caseless, engine);
    else if (item.kind === 'property') {
      if (node.caseless)
        throw new SyntaxError(
          `pattern: \\p{${item.name}} in a case-insensitive group is not supported`,
        );
      out.members += propertyMember(item.name, item.negated);
    } else if (item.kind === 'class') {
      // \d \s \w \h are each closed under case folding.
      const [m, complement] = classMembers(item.name, engine, node.bracketed);
      if (complement) out.complements.push(m);
      else out.members += m;
    } else if (!item.negated) gather(item.items, node, engine, out);
    else {
      const inner = gather(item.items, node, engine, { members: '', complements: [] });
      if (inner.complements.length > 0)
        throw new SyntaxError(
          'pattern: a negated set holding \\W or \\H inside a set is not supported',
        );
      out.complements.push(inner.members);
    }
  }
  return out;
}

/**
 * A set. JavaScript sets hold `\p{...}` and `\P{...}` but not the complement of several
 * members (`\W`, or `[^ab]` inside a set): `[xy\W]` becomes `(?:[xy]|[^\w...])`, and `[^xy\W]`
 * (not x, y, and a word character) becomes `(?:(?![xy])[\w...])`.
 */
export function emitSet(
  node: Extract<PatternNode, { kind: 'set' }>,
  engine: PatternEngine,
): string {
  const { members, complements } = gather(node.items, node, engine, {
    members: '',
    complements: [],
  });
  if (complements.length === 0)
    return !node.negated && /^\\[pP]\{[^}]*\}$/.test(members)
      ? members
      : `[${node.negated ? '^' : ''}${members}]`;
  if (!node.negated)
    return `(?:${[...(members ? [`[${members}]`] : []), ...complements.map((c) => `[^${c}]`)].join('|')})`;
  const last = complements.pop()!;
  return `(?:${members ? `(?![${members}])` : ''}${complements.map((c) => `(?=[${c}])`).join('')}[${last}])`;
}

/** An assertion, as the engine means it. */
function emitAssert(name: string, engine: PatternEngine): string {
  const w = wordMembers(engine, false);
  switch (name) {
    case '^':
      return engine === 'oniguruma' ? '(?:^|(?<=\\n)(?=[\\s\\S]))' : '^';
    case '$':
      return engine === 'oniguruma' ? '(?![^\\n])' : '$';
    case 'A':
      return '^';
    case 'z':
      return '$';
    case 'Z':
      return '(?=\\n?$)';
    case 'b':
      return `(?:(?<=[${w}])(?![${w}])|(?<![${w}])(?=[${w}]))`;
    default:
      return `(?:(?<=[${w}])(?=[${w}])|(?<![${w}])(?![${w}]))`;
  }
}

function quantifier(min: number, max: number): string {
  if (min === 0 && max === 1) return '?';
  if (max === Infinity) return min === 0 ? '*' : min === 1 ? '+' : `{${min},}`;
  return min === max ? `{${min}}` : `{${min},${max}}`;
}

/** JavaScript source for `node`; `groups` counts the capturing groups written so far. */
function emit(node: PatternNode, engine: PatternEngine, groups: { n: number }): string {
  switch (node.kind) {
    case 'char': {
      if (!node.caseless) return literal(node.cp, false);
      checkMultiFold(node.cp, engine);
      const orbit = caseOrbit(node.cp);
      return orbit.length === 1
        ? literal(node.cp, false)
        : `[${orbit.map((cp) => literal(cp, true)).join('')}]`;
    }
    case 'set':
      return emitSet(node, engine);
    case 'assert':
      return emitAssert(node.name, engine);
    case 'look':
      return `(?${node.behind ? '<' : ''}${node.negated ? '!' : '='}${emit(node.body, engine, groups)})`;
    case 'atomic': {
      // A numbered group (named ones cost an object per match); `(?:\N)` so no digit follows it.
      const n = ++groups.n;
      return `(?=(${emit(node.body, engine, groups)}))(?:\\${n})`;
    }
    case 'repeat': {
      const body = emit(node.body, engine, groups);
      const atom = node.body.kind === 'char' || node.body.kind === 'set' ? body : `(?:${body})`;
      return `${atom}${quantifier(node.min, node.max)}${node.lazy ? '?' : ''}`;
    }
    case 'seq':
      checkCaselessRuns(node.items, engine);
      return node.items
        .map((item) =>
          item.kind === 'alt' ? `(?:${emit(item, engine, groups)})` : emit(item, engine, groups),
        )
        .join('');
    case 'alt':
      return node.branches.map((b) => emit(b, engine, groups)).join('|');
  }
}

/** Refuses case-insensitive text that Oniguruma also matches to one character (`ss` and `ß`). */
function checkCaselessRuns(items: readonly PatternNode[], engine: PatternEngine): void {
  if (engine !== 'oniguruma') return;
  let run = '';
  for (const item of [...items, undefined]) {
    if (item?.kind === 'char' && item.caseless) {
      run += String.fromCodePoint(item.cp).toLowerCase();
      continue;
    }
    if (run !== '')
      for (const target of multiCharFoldTargets())
        if (run.includes(target))
          throw new SyntaxError(
            `pattern: a case-insensitive ${JSON.stringify(target)}, which Oniguruma also matches to one character, is not supported`,
          );
    run = '';
  }
}

/** JavaScript source (for `new RegExp(source, 'gu')`) for a parsed pattern. */
export function toJavaScript(tree: PatternNode, engine: PatternEngine): string {
  return emit(tree, engine, { n: 0 });
}
