/**
 * Unicode case folding for case-insensitive pattern groups `(?i:...)`, which JavaScript (before
 * RegExp modifiers) can only express as sets: `(?i:s)` is `[sSſ]`, `(?i:k)` is `[kKK]`.
 * Characters match case-insensitively when their simple case foldings (CaseFolding.txt C + S)
 * are equal — Rust's `regex` and JavaScript's `iu` flags fold so. Oniguruma also uses the full
 * foldings (F), where one character matches several (`ß` matches `ss`); `multiCharFold` finds
 * those so that the translation can refuse them.
 */

/** Every cased character lies below this code point (Adlam ends at U+1E943). */
const CASED_END = 0x1e944;

let below: string | undefined;

/** Every code point below `CASED_END` but the surrogates, as one string to search. */
function everyCasedCandidate(): string {
  if (below === undefined) {
    const chunks: string[] = [];
    for (let start = 0; start < CASED_END; start += 4096) {
      const cps: number[] = [];
      for (let cp = start; cp < Math.min(start + 4096, CASED_END); cp++)
        if (cp < 0xd800 || cp >= 0xe000) cps.push(cp);
      chunks.push(String.fromCodePoint(...cps));
    }
    below = chunks.join('');
  }
  return below;
}

const orbits = new Map<number, number[]>();

/**
 * The characters that match `cp` case-insensitively under simple case folding, `cp` included,
 * in ascending order (`s` → `S s ſ`): JavaScript's own `iu` matching finds them.
 */
export function caseOrbit(cp: number): number[] {
  let orbit = orbits.get(cp);
  if (orbit) return orbit;
  const c = String.fromCodePoint(cp);
  if (cp >= CASED_END || c.toUpperCase() === c.toLowerCase())
    orbit = [cp]; // uncased
  else {
    const re = new RegExp(`[${c.replace(/[\\\]^-]/u, '\\$&')}]`, 'giu');
    orbit = [...everyCasedCandidate().matchAll(re)].map((m) => m[0].codePointAt(0)!);
  }
  for (const x of orbit) orbits.set(x, orbit);
  return orbit;
}

let folds: Map<number, string> | undefined;

/** Characters whose full case folding is several characters, and that folding (`ß` → `ss`). */
function multiCharFolds(): Map<number, string> {
  if (!folds) {
    folds = new Map();
    const changing = /[\p{Changes_When_Uppercased}\p{Changes_When_Lowercased}]/gu;
    for (const [c] of everyCasedCandidate().matchAll(changing)) {
      const upper = c.toUpperCase();
      const lower = c.toLowerCase();
      const fold = [...upper].length > 1 ? upper.toLowerCase() : lower;
      if ([...fold].length > 1) folds.set(c.codePointAt(0)!, fold);
    }
  }
  return folds;
}

/**
 * The full case folding of `cp` when it is several characters (`ß` → `ss`, `ﬁ` → `fi`,
 * `İ` → `i̇`), also for a character that folds simply to such a one (`ẞ` → `ss`); else undefined.
 */
export function multiCharFold(cp: number): string | undefined {
  for (const x of caseOrbit(cp)) {
    const fold = multiCharFolds().get(x);
    if (fold !== undefined) return fold;
  }
  return undefined;
}

/** Every several-character full folding (`ss`, `fi`, `st`, …): texts Oniguruma matches to one character. */
export function multiCharFoldTargets(): Set<string> {
  return new Set(multiCharFolds().values());
}
