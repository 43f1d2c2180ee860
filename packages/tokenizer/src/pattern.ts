/**
 * Pre-tokenization patterns, and their translation into JavaScript RegExp syntax.
 *
 * tiktoken and Hugging Face write split patterns for Rust/Oniguruma regex engines, with two
 * features JavaScript lacks (Node 20 rejects both): inline case-insensitive groups `(?i:...)` and
 * possessive quantifiers (`?+`, `*+`, `++`, `{n,m}+`). `toJsRegExp` rewrites them into
 * equivalent JavaScript: `(?i:'s)` becomes `(?:'[sS])`, and a possessive `X++` becomes the atomic
 * `(?=(X+))\N` — a lookahead captures the greedy match and the backreference consumes it,
 * so the engine cannot backtrack into it, exactly as a possessive quantifier behaves.
 */

/** GPT-2 / r50k / p50k (and Hugging Face's ByteLevel pre-tokenizer). */
export const GPT2_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** cl100k_base (GPT-3.5/4), as tiktoken writes it. */
export const CL100K_PATTERN =
  "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";

/** o200k_base (GPT-4o), as tiktoken writes it. */
export const O200K_PATTERN = [
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  '\\p{N}{1,3}',
  ' ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*',
  '\\s*[\\r\\n]+',
  '\\s+(?!\\S)',
  '\\s+',
].join('|');

/** Reads one atom starting at `i` (escape, class, group or char); returns its end index. */
function atomEnd(src: string, i: number): number {
  const c = src[i];
  if (c === '\\') {
    if ((src[i + 1] === 'p' || src[i + 1] === 'P') && src[i + 2] === '{')
      return src.indexOf('}', i) + 1;
    return i + 2;
  }
  if (c === '[') {
    let j = i + 1;
    if (src[j] === '^') j++;
    if (src[j] === ']') j++;
    while (j < src.length && src[j] !== ']') j += src[j] === '\\' ? 2 : 1;
    return j + 1;
  }
  if (c === '(') {
    let depth = 0;
    let j = i;
    let inClass = false;
    for (; j < src.length; j++) {
      const d = src[j];
      if (d === '\\') {
        j++;
        continue;
      }
      if (inClass) {
        if (d === ']') inClass = false;
        continue;
      }
      if (d === '[') inClass = true;
      else if (d === '(') depth++;
      else if (d === ')' && --depth === 0) return j + 1;
    }
    throw new SyntaxError(`pattern: unbalanced parenthesis at ${i} in ${JSON.stringify(src)}`);
  }
  return i + 1;
}

/** Reads a quantifier at `i` (`?`, `*`, `+`, `{n,m}`); returns its end index, or `i` if none. */
function quantifierEnd(src: string, i: number): number {
  const c = src[i];
  if (c === '?' || c === '*' || c === '+') return i + 1;
  if (c === '{') {
    const m = /^\{\d+(,\d*)?\}/.exec(src.slice(i));
    if (m) return i + m[0].length;
  }
  return i;
}

/** `(?i:...)` body with every ASCII letter outside escapes turned into a two-case class. */
function caseless(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const end = atomEnd(body, i);
      out += body.slice(i, end);
      i = end - 1;
    } else if (c === '[') {
      // Inside a class, add the other case of each letter.
      const end = atomEnd(body, i);
      out += body
        .slice(i, end)
        .replace(
          /[a-zA-Z]/g,
          (ch) => ch + (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()),
        );
      i = end - 1;
    } else if (/[a-zA-Z]/.test(c)) {
      out += `[${c.toLowerCase()}${c.toUpperCase()}]`;
    } else out += c;
  }
  return out;
}

/** Capturing groups opened in a JavaScript pattern source (plain `(` and named `(?<name>`). */
function capturingGroups(source: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') {
      if (source[i + 1] !== '?') n++;
      else if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') n++;
    }
  }
  return n;
}

/** Rust regex's and Oniguruma's Unicode classes, which JavaScript's `\s` and `\d` are not. */
const UNICODE_CLASSES: Record<string, string> = {
  s: '\\p{White_Space}', // JavaScript's \s adds U+FEFF and lacks U+0085
  S: '\\P{White_Space}',
  d: '\\p{Nd}', // JavaScript's \d is ASCII only
  D: '\\P{Nd}',
};

/**
 * Translates a tiktoken/Hugging Face (Rust regex/Oniguruma) split pattern into an equivalent
 * JavaScript pattern source, for `new RegExp(source, 'gu')`. `\s`, `\S`, `\d`, `\D` become the
 * Unicode classes those engines mean; `\w` and `\b`, whose Unicode meanings differ between
 * the two engines, are kept as JavaScript's (ASCII).
 */
export function translatePattern(pattern: string): string {
  const src = pattern.replace(/\\(.)/gsu, (pair, c: string) => UNICODE_CLASSES[c] ?? pair);
  let out = '';
  let i = 0;
  while (i < src.length) {
    if (src.startsWith('(?i:', i)) {
      const end = atomEnd(src, i);
      out += `(?:${caseless(src.slice(i + 4, end - 1))})`;
      i = end;
    } else {
      const end = atomEnd(src, i);
      let atom = src.slice(i, end);
      if (
        atom.startsWith('(') &&
        !atom.startsWith('(?=') &&
        !atom.startsWith('(?!') &&
        !atom.startsWith('(?<')
      ) {
        atom = `(${translatePattern(atom.slice(1, -1))})`;
      }
      i = end;
      const qEnd = quantifierEnd(src, i);
      const quantifier = src.slice(i, qEnd);
      i = qEnd;
      if (quantifier && src[i] === '+') {
        // Possessive: emulate an atomic group. A numbered group (named ones cost an object per
        // match) whose number is one more than the capturing groups opened so far.
        i++;
        const group = capturingGroups(out) + 1;
        out += `(?=(${atom}${quantifier}))(?:\\${group})`;
      } else out += atom + quantifier;
    }
  }
  return out;
}

/** The body of a group atom `(...)`, without its opening `(?:`, `(?i:`, `(?=`, `(?<name>`, …. */
function groupBody(atom: string): string {
  const open = /^\((\?(<?[=!]|[a-zA-Z-]*:|<[^>]*>))?/.exec(atom)![0];
  return atom.slice(open.length, -1);
}

/** Whether a quantifier (`+`, `{2,}`, …) repeats without bound. */
function unbounded(quantifier: string): boolean {
  return /^[*+]|,\}$/.test(quantifier);
}

/** Whether a quantifier (`?`, `*`, `{1,3}`, …) can match a varying number of times. */
function variable(quantifier: string): boolean {
  const m = /^\{(\d+),(\d*)\}$/.exec(quantifier);
  return m ? m[1] !== m[2] : quantifier !== '' && !/^\{\d+\}$/.test(quantifier);
}

/** Whether `src` has a non-possessive quantifier that can match a varying number of times. */
function hasVariableQuantifier(src: string): boolean {
  for (let i = 0; i < src.length; ) {
    const end = atomEnd(src, i);
    const atom = src.slice(i, end);
    const qEnd = quantifierEnd(src, end);
    const quantifier = src.slice(end, qEnd);
    const possessive = quantifier !== '' && src[qEnd] === '+';
    if (!possessive && variable(quantifier)) return true;
    if (atom.startsWith('(') && hasVariableQuantifier(groupBody(atom))) return true;
    i = possessive ? qEnd + 1 : qEnd;
  }
  return false;
}

/**
 * Throws when a pattern repeats, without bound, a group that itself holds a quantifier of varying
 * count (`(a+)+`, `(\s*x*)*`, `(a{1,3})+`): the classic shape of catastrophic (exponential)
 * backtracking. JavaScript
 * regular expressions have no time limit, and a split pattern from a file is code, so such
 * patterns are refused. Possessive quantifiers (`++`, `*+`) never backtrack and pass. Other
 * super-linear patterns (overlapping alternatives under a repetition, `(a|a)*`) are not detected:
 * load patterns only from files you trust.
 */
export function checkBacktracking(src: string): void {
  for (let i = 0; i < src.length; ) {
    const end = atomEnd(src, i);
    const atom = src.slice(i, end);
    const qEnd = quantifierEnd(src, end);
    const quantifier = src.slice(end, qEnd);
    const possessive = quantifier !== '' && src[qEnd] === '+';
    if (atom.startsWith('(')) {
      const body = groupBody(atom);
      if (!possessive && unbounded(quantifier) && hasVariableQuantifier(body))
        throw new SyntaxError(
          `pattern: ${JSON.stringify(src)} repeats the group ${JSON.stringify(atom)} without bound (${quantifier}) and the group holds a quantifier of varying count, which can backtrack exponentially; refused (make a quantifier possessive or fixed)`,
        );
      checkBacktracking(body);
    }
    i = possessive ? qEnd + 1 : qEnd;
  }
}

/**
 * A global, Unicode RegExp from a tiktoken/Hugging Face pattern (translated when needed).
 *
 * @throws SyntaxError - the pattern does not compile, or nests unbounded quantifiers (see `checkBacktracking`)
 */
export function compilePattern(src: string): RegExp {
  checkBacktracking(src);
  const source = translatePattern(src);
  try {
    return new RegExp(source, 'gu');
  } catch (e) {
    throw new SyntaxError(
      `pattern: cannot compile ${JSON.stringify(src)} (as ${JSON.stringify(source)}): ${(e as Error).message}`,
    );
  }
}
