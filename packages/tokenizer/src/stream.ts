/**
 * Streaming decode: ids arrive one at a time (from a sampler) and text comes out only up to the
 * last complete UTF-8 character, so a character split across tokens is never shown as U+FFFD.
 */
export class StreamDecoder {
  private pending: number[] = [];
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });

  constructor(private readonly bytesOf: (id: number) => Uint8Array) {}

  /** Adds one id; returns the text completed by it (possibly empty). */
  push(id: number): string {
    for (const b of this.bytesOf(id)) this.pending.push(b);
    const end = completeLength(this.pending);
    if (end === 0) return '';
    const text = this.decoder.decode(Uint8Array.from(this.pending.slice(0, end)));
    this.pending = this.pending.slice(end);
    return text;
  }

  /** Flushes what is left at the end of the stream (an incomplete character becomes U+FFFD). */
  end(): string {
    const text = this.pending.length ? this.decoder.decode(Uint8Array.from(this.pending)) : '';
    this.pending = [];
    return text;
  }
}

/** Length of the longest prefix of `bytes` that does not end inside a UTF-8 character. */
function completeLength(bytes: readonly number[]): number {
  const n = bytes.length;
  // Look back at most 3 bytes for the lead byte of the last character.
  for (let back = 1; back <= Math.min(4, n); back++) {
    const b = bytes[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n; // only continuation bytes: invalid anyway, let the decoder replace them
}
