import { readFileSync } from 'node:fs';

/** A seeded generator of numbers in [0, 1) (a linear congruential generator; tests only). */
export function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/** A mixed corpus for exactness tests: Shakespeare, code, JSON, CJK, emoji, whitespace, random Unicode. */
export function mixedCorpus(seed = 1): string[] {
  const shakespeare = readFileSync(
    new URL('../../../apps/reference-llm/data/tinyshakespeare.txt', import.meta.url),
    'utf8',
  ).slice(0, 60_000);
  const parts = [
    shakespeare,
    'function add(a, b) {\n\treturn a + b; // sum\n}\nconst x = [1, 2, 3].map((v) => v ** 2);\n\n\n    indented\r\nwindows\r\n',
    JSON.stringify(
      {
        name: 'Tessera',
        list: [1, 2.5, -3e10],
        nested: { ok: true, text: 'quote " and \\ backslash' },
      },
      null,
      2,
    ),
    '日本語のテキストです。中文分词测试。한국어 텍스트. Ελληνικά. Русский текст. עברית. العربية',
    '😀👍🏽 👨‍👩‍👧‍👦 🇫🇷 ✨ — “quotes” ‘single’ … ½ ① ™',
    "I'M HERE, you're there, WE'LL see, she'd, it's, DON'T, Isn't",
    '   lots   of    spaces\t\ttabs\n\n\n\nnewlines  \n  mixed \u00a0nbsp\u2003em-space',
    '123456789 3.14159 1,000,000 0x1F 1e-9 2025-11-28',
    'combining: e\u0301 a\u0300 n\u0303 — Zalgo: z\u0351\u0336a\u0352\u0334l\u0353g\u0354o',
  ];
  // Random strings over assorted code points (surrogate pairs included), seeded.
  const rnd = lcg(seed);
  const ranges = [
    [0x20, 0x7e],
    [0xa0, 0x24f],
    [0x370, 0x3ff],
    [0x4e00, 0x4fff],
    [0x1f300, 0x1f6ff],
    [0x0300, 0x036f],
    [0x9, 0xd],
  ];
  for (let k = 0; k < 40; k++) {
    let t = '';
    const len = 1 + Math.floor(rnd() * 60);
    for (let i = 0; i < len; i++) {
      const [lo, hi] = ranges[Math.floor(rnd() * ranges.length)]!;
      t += String.fromCodePoint(lo! + Math.floor(rnd() * (hi! - lo! + 1)));
    }
    parts.push(t);
  }
  return parts;
}

/** js-tiktoken's compressed rank format ("<x> <offset> <b64> <b64> ..." per line) as byte string → rank. */
export function ranksOf(r: { bpe_ranks: string }): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of r.bpe_ranks.split('\n')) {
    if (!line) continue;
    const [, offset, ...tokens] = line.split(' ');
    for (const [i, t] of tokens.entries()) m.set(atob(t), Number(offset) + i);
  }
  return m;
}
