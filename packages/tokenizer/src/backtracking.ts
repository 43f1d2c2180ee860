/**
 * A load-time guard against split patterns that make a backtracking engine (JavaScript's, which
 * has no time limit) take super-linear time. A pattern from a file is code; this refuses the
 * shapes that blow up, from the parsed pattern:
 * 1. a group repeated without bound (`*`, `+`, `{n,}`) that can match one text in more than one
 *    way — it holds a quantifier of varying count (`(a+)+`, `(\s*x*)*`, `(a{1,3})+`) or
 *    alternatives that may begin with the same character (`(a|a)*`, `(a|ab)+`, `(\w|\d)*`):
 *    exponential time;
 * 2. more than `MAX_LOOPS` unbounded repetitions that one match passes through in a row, a
 *    bounded repetition counting as its copies (`.*.*.*x`, `(.*a){12}`): a failing match
 *    attempt takes time of the order of the text's length to that power;
 * 3. bounded choices (`?`, `{1,3}`, alternatives that may begin alike) that multiply to more than
 *    `MAX_PATHS` ways through one match (`(a|a){30}`, `(a?){10}`).
 * Possessive quantifiers and atomic groups never backtrack, so they pass rules 1 and 3 (rule 2
 * still counts them: each is tried at every place the match reaches).
 */
import { caseOrbit } from './case-fold.js';
import { emitSet } from './pattern-js.js';
import { type PatternEngine, type PatternNode, parsePattern } from './pattern-syntax.js';

/** Unbounded repetitions in a row that real patterns need (`\s*[\r\n]+`, `[…]*[…]+`). */
export const MAX_LOOPS = 2;
/** Ways through a pattern's bounded choices. */
export const MAX_PATHS = 1000;

type SetNode = Extract<PatternNode, { kind: 'set' }>;
type CharNode = Extract<PatternNode, { kind: 'char' }> | SetNode;

/** How a node backtracks. */
interface Shape {
  /** Unbounded repetitions one match passes through in a row. */
  loops: number;
  /** Where the pattern writes them, for messages. */
  where: string[];
  /** Ways through its bounded choices. */
  paths: number;
}

const FLAT: Shape = { loops: 0, where: [], paths: 1 };

class Guard {
  private readonly sets = new Map<SetNode, RegExp>();

  constructor(
    private readonly pattern: string,
    private readonly engine: PatternEngine,
  ) {}

  private refuse(why: string): SyntaxError {
    return new SyntaxError(`pattern ${JSON.stringify(this.pattern)}: ${why}; refused`);
  }

  shape(node: PatternNode): Shape {
    const s = this.shapeOf(node);
    if (s.loops > MAX_LOOPS)
      throw this.refuse(
        `a match passes through ${s.loops} unbounded repetitions in a row (${s.where.map((w) => JSON.stringify(w)).join(', ')}; a bounded repetition counts as its copies), which can take time of the order of the text's length to the power ${s.loops} (at most ${MAX_LOOPS} are allowed)`,
      );
    if (s.paths > MAX_PATHS)
      throw this.refuse(
        `${node.kind === 'repeat' ? `${JSON.stringify(node.text)} makes` : 'its bounded choices make'} ${s.paths} ways through one match, which backtracking tries one by one (at most ${MAX_PATHS} are allowed)`,
      );
    return s;
  }

  private shapeOf(node: PatternNode): Shape {
    switch (node.kind) {
      case 'char':
      case 'set':
      case 'assert':
        return FLAT;
      case 'look':
        return { ...this.shape(node.body), paths: 1 };
      case 'atomic':
        // A possessive quantifier: its repetitions are never revisited, however ambiguous.
        return node.body.kind === 'repeat'
          ? { ...this.repeatShape(node.body, true), paths: 1 }
          : { ...this.shape(node.body), paths: 1 };
      case 'seq': {
        const shapes = node.items.map((item) => this.shape(item));
        return {
          loops: shapes.reduce((n, s) => n + s.loops, 0),
          where: shapes.flatMap((s) => s.where),
          paths: shapes.reduce((p, s) => p * s.paths, 1),
        };
      }
      case 'alt': {
        const shapes = node.branches.map((b) => this.shape(b));
        const deepest = shapes.reduce((a, b) => (b.loops > a.loops ? b : a));
        const paths = this.branchesOverlap(node.branches)
          ? shapes.reduce((p, s) => p + s.paths, 0)
          : Math.max(...shapes.map((s) => s.paths));
        return { loops: deepest.loops, where: deepest.where, paths };
      }
      case 'repeat':
        return this.repeatShape(node, false);
    }
  }

  private repeatShape(node: Extract<PatternNode, { kind: 'repeat' }>, possessive: boolean): Shape {
    const body = this.shape(node.body);
    if (node.max === Infinity) {
      if (!possessive && this.ambiguous(node.body))
        throw this.refuse(
          `${JSON.stringify(node.text)} repeats without bound a group that can match one text in more than one way (it holds a quantifier of varying count, or alternatives that may begin alike), which can backtrack exponentially (make the quantifier possessive, or the group unambiguous)`,
        );
      return { loops: 1 + body.loops, where: [node.text, ...body.where], paths: 1 };
    }
    return {
      loops: node.max * body.loops,
      where: body.loops > 0 ? [node.text] : [],
      paths: body.paths ** node.max * (node.max - node.min + 1),
    };
  }

  /** Whether `node` can match one text in several ways: a varying quantifier, or alternatives that may begin alike. */
  private ambiguous(node: PatternNode): boolean {
    switch (node.kind) {
      case 'repeat':
        return node.min !== node.max || this.ambiguous(node.body);
      case 'seq':
        return node.items.some((item) => this.ambiguous(item));
      case 'alt':
        return this.branchesOverlap(node.branches) || node.branches.some((b) => this.ambiguous(b));
      default:
        return false; // atomic groups and look-arounds do not backtrack into themselves
    }
  }

  private branchesOverlap(branches: readonly PatternNode[]): boolean {
    const firsts = branches.map(first);
    return firsts.some((a, i) =>
      firsts
        .slice(i + 1)
        .some(
          (b) =>
            a.nullable ||
            b.nullable ||
            a.atoms.some((x) => b.atoms.some((y) => this.intersect(x, y))),
        ),
    );
  }

  /** Whether two characters or sets may match one character (true when that cannot be told cheaply). */
  private intersect(x: CharNode, y: CharNode): boolean {
    const [mx, my] = [members(x), members(y)];
    if (mx && my) return mx.some((cp) => my.includes(cp));
    if (mx) return this.matchesAny(y as SetNode, mx);
    if (my) return this.matchesAny(x as SetNode, my);
    return true; // two large sets (\p{L} and \p{N}): assume they meet
  }

  private matchesAny(set: SetNode, cps: readonly number[]): boolean {
    let re = this.sets.get(set);
    if (!re) {
      re = new RegExp(`^${emitSet(set, this.engine)}$`, 'u');
      this.sets.set(set, re);
    }
    return cps.some((cp) => re.test(String.fromCodePoint(cp)));
  }
}

/** Sets up to this size are compared member by member. */
const SMALL_SET = 256;

/** The code points a character or a small set of plain ranges matches (case variants included); undefined when large. */
function members(node: CharNode): number[] | undefined {
  if (node.kind === 'char') return node.caseless ? caseOrbit(node.cp) : [node.cp];
  if (node.negated || node.caseless) return undefined;
  const cps: number[] = [];
  for (const item of node.items) {
    if (item.kind !== 'range' || cps.length + item.to - item.from >= SMALL_SET) return undefined;
    for (let cp = item.from; cp <= item.to; cp++) cps.push(cp);
  }
  return cps;
}

/** The characters and sets a match of `node` can begin with, and whether it can match empty text. */
function first(node: PatternNode): { atoms: CharNode[]; nullable: boolean } {
  switch (node.kind) {
    case 'char':
    case 'set':
      return { atoms: [node], nullable: false };
    case 'assert':
    case 'look':
      return { atoms: [], nullable: true };
    case 'atomic':
      return first(node.body);
    case 'repeat': {
      const f = first(node.body);
      return { atoms: f.atoms, nullable: f.nullable || node.min === 0 };
    }
    case 'seq': {
      const atoms: CharNode[] = [];
      for (const item of node.items) {
        const f = first(item);
        atoms.push(...f.atoms);
        if (!f.nullable) return { atoms, nullable: false };
      }
      return { atoms, nullable: true };
    }
    case 'alt': {
      const fs = node.branches.map(first);
      return { atoms: fs.flatMap((f) => f.atoms), nullable: fs.some((f) => f.nullable) };
    }
  }
}

/** Checks a parsed pattern (see `checkBacktracking`). @internal */
export function checkTree(tree: PatternNode, pattern: string, engine: PatternEngine): void {
  new Guard(pattern, engine).shape(tree);
}

/**
 * Throws when a split pattern can make a backtracking engine take super-linear time in one of
 * the shapes this guard knows (module comment): an ambiguous group under an unbounded
 * repetition (exponential), more than two unbounded repetitions in a row, or more than a
 * thousand ways through bounded choices. Not refused, and so still possible on hostile text: two
 * unbounded repetitions in a row (`.*.*x`, and `\s*[\r\n]+` in real patterns), which can take
 * time of the order of n² per match attempt and n³ over a text of n characters that defeats
 * them, and one (`.*x`): n per attempt, n² over such a text.
 *
 * @throws SyntaxError - naming the part of the pattern and the shape
 */
export function checkBacktracking(pattern: string, engine: PatternEngine): void {
  checkTree(parsePattern(pattern, engine), pattern, engine);
}
