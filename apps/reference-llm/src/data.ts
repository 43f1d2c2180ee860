import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The bundled text: tinyshakespeare (see data/README.md). */
export const DEFAULT_DATA = new URL('../data/tinyshakespeare.txt', import.meta.url);

/** A text file's contents, with an error that names the file. */
export function readText(path: string | URL): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`--data ${displayPath(path)}: ${(e as Error).message}`);
  }
}

export function displayPath(path: string | URL): string {
  return typeof path === 'string' ? path : fileURLToPath(path);
}

/**
 * The text split into training (the first `fraction`) and validation (the rest). The cut goes
 * at the line break nearest the `fraction` point when one lies within 1% of the text (so no line
 * is split); otherwise at that point itself (never inside a UTF-16 surrogate pair).
 */
export function splitText(text: string, fraction = 0.9): { train: string; val: string } {
  const at = Math.floor(text.length * fraction);
  const near = Math.max(1, Math.floor(text.length * 0.01));
  const after = text.indexOf('\n', at);
  const before = text.lastIndexOf('\n', at - 1);
  const candidates = [after, before].filter((i) => i >= 0 && Math.abs(i - at) <= near);
  let cut: number;
  if (candidates.length > 0) {
    const nearest = candidates.reduce((a, b) => (Math.abs(a - at) <= Math.abs(b - at) ? a : b));
    cut = nearest + 1;
  } else {
    const code = text.charCodeAt(at);
    cut = code >= 0xdc00 && code <= 0xdfff ? at + 1 : at; // keep a surrogate pair whole
  }
  return { train: text.slice(0, cut), val: text.slice(cut) };
}

/** UTF-8 length of a string. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Throws unless a split holds one window of `seqLen` inputs and their targets (`seqLen + 1`
 * tokens), with an error that gives the numbers. Before tokenizing, pass the bytes alone: a
 * byte-level token covers at least one byte, so fewer bytes than tokens needed is already too short.
 */
export function checkSplitSize(
  source: string,
  split: 'training' | 'validation',
  size: { bytes: number; tokens?: number },
  seqLen: number,
): void {
  const need = seqLen + 1;
  const count = size.tokens ?? size.bytes;
  if (count >= need) return;
  const has =
    size.tokens === undefined
      ? `${size.bytes} bytes, fewer than`
      : `${size.tokens} tokens (${size.bytes} bytes); it needs`;
  throw new Error(
    `${source}: the ${split} split has ${has} the ${need} tokens of one batch window (${seqLen} inputs + 1 target); use a longer text`,
  );
}
