/**
 * Byte strings: a token's bytes held as a JavaScript string with one char (0–255) per byte
 * ("latin1"), so they can key a Map and be concatenated cheaply.
 */
const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Bytes → byte string. */
export function toByteString(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192)
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/** Byte string → bytes. */
export function fromByteString(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** UTF-8 byte string of a JS string. */
export function utf8ByteString(text: string): string {
  // Pure ASCII is its own byte string: skip the encoder on the common path.
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 127) return toByteString(encoder.encode(text));
  }
  return text;
}

/**
 * GPT-2's byte ↔ printable-char table (Hugging Face ByteLevel): printable Latin-1 bytes map to
 * themselves, the other 68 bytes to U+0100 onwards, so every byte has a visible character.
 */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const table = new Array<string>(256);
  let next = 256;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(keep.includes(b) ? b : next++);
  return table;
})();

export const UNICODE_TO_BYTE: ReadonlyMap<string, number> = new Map(
  BYTE_TO_UNICODE.map((c, b) => [c, b]),
);

/** Byte string → GPT-2 printable form (as in tokenizer.json vocabularies). */
export function bytesToVisible(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += BYTE_TO_UNICODE[s.charCodeAt(i)];
  return out;
}

/** GPT-2 printable form → byte string; throws on a character outside the table. */
export function visibleToBytes(s: string, context: string): string {
  let out = '';
  for (const ch of s) {
    const b = UNICODE_TO_BYTE.get(ch);
    if (b === undefined)
      throw new Error(
        `${context}: character ${JSON.stringify(ch)} is not in the byte-level alphabet`,
      );
    out += String.fromCharCode(b);
  }
  return out;
}

/**
 * The bytes Hugging Face's ByteLevel decoder gives a token string (`decode_chain` in
 * `tokenizers/src/pre_tokenizers/byte_level.rs`): each character's byte when every character is
 * in the byte-level alphabet, else the string's UTF-8 — so an added token `"café"` decodes to
 * the bytes `c a f 0xE9`, not to its UTF-8 text, while `" café"` (a space is not in the
 * alphabet) decodes to its UTF-8.
 */
export function byteLevelDecodeBytes(token: string): string {
  let out = '';
  for (const ch of token) {
    const b = UNICODE_TO_BYTE.get(ch);
    if (b === undefined) return utf8ByteString(token);
    out += String.fromCharCode(b);
  }
  return out;
}

/** Whether every character of `s` is in the byte-level alphabet (a vocabulary spelling). */
export function isByteLevel(s: string): boolean {
  for (const ch of s) if (!UNICODE_TO_BYTE.has(ch)) return false;
  return true;
}
