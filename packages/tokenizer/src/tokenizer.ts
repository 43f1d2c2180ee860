import { BytePairModel } from './bpe.js';
import { fromByteString, utf8, utf8ByteString } from './bytes.js';
import { compilePattern } from './pattern.js';
import { StreamDecoder } from './stream.js';
import type { TokenizerLike } from './tokenizer-like.js';

/** Which special tokens may appear in the text being encoded (tiktoken's policy). */
export interface EncodeOptions {
  /** Special-token texts encoded as their special ids: 'all', or a list. Default none. */
  allowedSpecial?: 'all' | readonly string[];
  /**
   * Special-token texts that are an error when found in the text: 'all' (default: every special
   * token not allowed), or a list. Pass `[]` to encode such text as ordinary text.
   */
  disallowedSpecial?: 'all' | readonly string[];
  /** Add the tokenizer's template tokens (e.g. `<|begin_of_text|>`) around the text. Default false. */
  addSpecialTokens?: boolean;
}

/** A token with the span of the input it covers, as UTF-16 indices `[start, end)`. */
export interface TokenSpan {
  id: number;
  start: number;
  end: number;
}

export interface TokenizerConfig {
  /** Byte string → id for every ordinary token. */
  encoder: ReadonlyMap<string, number>;
  /** Merge priorities "a\u0100b" → rank (Hugging Face BPE); omitted for tiktoken ranks. */
  merges?: ReadonlyMap<string, number>;
  /** The split pattern (tiktoken/Hugging Face syntax; translated for JavaScript). */
  pattern: string;
  /** Special token text → id. */
  specialTokens?: Record<string, number>;
  /** Name, for messages and saved files. */
  name?: string;
  /** With merges: a piece that is a token is taken whole (Hugging Face `ignore_merges`, Llama-3). */
  ignoreMerges?: boolean;
  /** Unicode normalization applied before splitting (Hugging Face `NFC` normalizer, Qwen). */
  normalize?: 'NFC';
  /** Prepend a space to the text (Hugging Face ByteLevel `add_prefix_space`). */
  addPrefixSpace?: boolean;
  /** Special tokens placed around a sequence when `addSpecialTokens` is requested (TemplateProcessing). */
  template?: { before: string[]; after: string[] };
}

/** Where encoded ids go: an array, or a counter that keeps none. */
type IdSink = { push(id: number): unknown };

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A byte-level BPE tokenizer: encodes exactly like tiktoken (or a Hugging Face byte-level BPE)
 * for the same ranks and pattern. Every ordinary id decodes to bytes; text is recovered from the
 * concatenated bytes, so decode(encode(x)) === x for every valid string.
 */
export class Tokenizer implements TokenizerLike {
  readonly name: string;
  readonly pattern: string;
  readonly specialTokens: Readonly<Record<string, number>>;
  private readonly model: BytePairModel;
  private readonly regex: RegExp;
  private readonly decoder: string[] = [];
  private readonly specialById = new Map<number, string>();
  private readonly specialRegex: RegExp | undefined;
  private readonly pieceCache = new Map<string, readonly number[]>();
  /** @internal How the tokenizer was made (for saving it again). */
  readonly config: TokenizerConfig;

  constructor(config: TokenizerConfig) {
    this.name = config.name ?? 'bpe';
    this.pattern = config.pattern;
    this.regex = compilePattern(config.pattern);
    this.model = new BytePairModel(config.encoder, config.merges, config.ignoreMerges ?? false);
    this.config = config;
    this.specialTokens = { ...(config.specialTokens ?? {}) };
    for (const [bytes, id] of config.encoder) this.decoder[id] = bytes;
    for (const [text, id] of Object.entries(this.specialTokens)) {
      if (this.decoder[id] !== undefined)
        throw new Error(
          `Tokenizer: special token ${JSON.stringify(text)} reuses ordinary id ${id}`,
        );
      this.specialById.set(id, text);
    }
    const specials = Object.keys(this.specialTokens).sort((a, b) => b.length - a.length);
    this.specialRegex = specials.length
      ? new RegExp(specials.map(escapeRegExp).join('|'), 'g')
      : undefined;
  }

  /** One more than the largest id (ordinary or special). */
  get vocabSize(): number {
    let max = this.decoder.length - 1;
    for (const id of this.specialById.keys()) max = Math.max(max, id);
    return max + 1;
  }

  /** The id of a special token by its text (e.g. `<|endoftext|>`); throws if unknown. */
  specialId(text: string): number {
    const id = this.specialTokens[text];
    if (id === undefined)
      throw new Error(
        `${this.name}: no special token ${JSON.stringify(text)} (have: ${Object.keys(this.specialTokens).join(', ') || 'none'})`,
      );
    return id;
  }

  /** Byte string of an ordinary token, or the text of a special one. */
  tokenBytes(id: number): Uint8Array {
    const special = this.specialById.get(id);
    if (special !== undefined) return utf8(special);
    const bytes = this.decoder[id];
    if (bytes === undefined)
      throw new RangeError(
        `${this.name}: unknown token id ${id} (vocabulary size ${this.vocabSize})`,
      );
    return fromByteString(bytes);
  }

  private allowedSet(options: EncodeOptions): Set<string> {
    const allowed = options.allowedSpecial ?? [];
    return new Set(allowed === 'all' ? Object.keys(this.specialTokens) : allowed);
  }

  private checkDisallowed(text: string, allowed: Set<string>, options: EncodeOptions): void {
    const disallowed = options.disallowedSpecial ?? 'all';
    const list =
      disallowed === 'all'
        ? Object.keys(this.specialTokens).filter((t) => !allowed.has(t))
        : disallowed;
    for (const token of list) {
      if (text.includes(token)) {
        throw new Error(
          `${this.name}: the text contains the special token ${JSON.stringify(token)}, which is not allowed. ` +
            `Pass { allowedSpecial: [${JSON.stringify(token)}] } to encode it as a special token, or { disallowedSpecial: [] } to encode it as plain text.`,
        );
      }
    }
  }

  /**
   * Visits every token of `text` in order: the one loop all encoders share. With `emit`, tokens
   * come with their UTF-16 spans; without, ids are pushed onto `out` on a faster path.
   */
  private visit(
    raw: string,
    options: EncodeOptions,
    out: IdSink | undefined,
    emit?: (id: number, start: number, end: number) => void,
  ): void {
    let text = this.config.normalize ? raw.normalize(this.config.normalize) : raw;
    if (this.config.addPrefixSpace && !text.startsWith(' ')) text = ` ${text}`;
    const template = options.addSpecialTokens ? this.config.template : undefined;
    const put = (id: number, start: number, end: number) =>
      emit ? emit(id, start, end) : out!.push(id);
    if (template) for (const t of template.before) put(this.specialId(t), 0, 0);
    const allowed = this.allowedSet(options);
    this.checkDisallowed(text, allowed, options);
    let cursor = 0;
    if (this.specialRegex && allowed.size > 0) {
      this.specialRegex.lastIndex = 0;
      for (const m of text.matchAll(this.specialRegex)) {
        if (!allowed.has(m[0])) continue;
        this.ordinary(text.slice(cursor, m.index!), cursor, out, emit);
        put(this.specialTokens[m[0]]!, m.index!, m.index! + m[0].length);
        cursor = m.index! + m[0].length;
      }
    }
    this.ordinary(text.slice(cursor), cursor, out, emit);
    if (template) for (const t of template.after) put(this.specialId(t), raw.length, raw.length);
  }

  /** Ids of one pre-tokenized piece, cached by the piece's text. */
  private pieceIds(piece: string): readonly number[] {
    let ids = this.pieceCache.get(piece);
    if (ids === undefined) {
      ids = this.model.encodePiece(utf8ByteString(piece));
      if (this.pieceCache.size >= 200_000) this.pieceCache.clear();
      this.pieceCache.set(piece, ids);
    }
    return ids;
  }

  /** Splits text without special tokens into pieces and encodes them (`offset`: its start in the input). */
  private ordinary(
    segment: string,
    offset: number,
    out: IdSink | undefined,
    emit?: (id: number, start: number, end: number) => void,
  ): void {
    if (!segment) return;
    if (!emit) {
      // Like tiktoken, characters no alternative of the pattern matches are skipped.
      this.regex.lastIndex = 0;
      for (const m of segment.matchAll(this.regex)) {
        const ids = this.pieceIds(m[0]);
        if (ids.length === 1) out!.push(ids[0]!);
        else for (const id of ids) out!.push(id);
      }
      return;
    }
    this.regex.lastIndex = 0;
    for (const m of segment.matchAll(this.regex)) {
      const pieceStart = offset + m.index!;
      const ids = this.pieceIds(m[0]);
      if (ids.length === 1) emit(ids[0]!, pieceStart, pieceStart + m[0].length);
      else this.emitSpans(m[0], pieceStart, ids, emit);
    }
  }

  /**
   * Spans of a piece's tokens: a token covers every character it has bytes of, so tokens that
   * split one character (an emoji across two tokens) both cover that character.
   */
  private emitSpans(
    piece: string,
    start: number,
    ids: readonly number[],
    emit: (id: number, start: number, end: number) => void,
  ): void {
    // For each byte of the piece: the UTF-16 start and end of the character it belongs to.
    const charStart: number[] = [];
    const charEnd: number[] = [];
    for (let i = 0; i < piece.length; ) {
      const code = piece.codePointAt(i)!;
      const units = code > 0xffff ? 2 : 1;
      const bytes = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
      for (let k = 0; k < bytes; k++) {
        charStart.push(i);
        charEnd.push(i + units);
      }
      i += units;
    }
    let byte = 0;
    for (const id of ids) {
      const len = this.decoder[id]!.length;
      emit(id, start + charStart[byte]!, start + charEnd[byte + len - 1]!);
      byte += len;
    }
  }

  /** Token ids of `text`. Special-token text is an error unless allowed (tiktoken's policy). */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    this.visit(text, options, ids);
    return ids;
  }

  /** Token ids with the span of `text` each covers. */
  encodeWithOffsets(text: string, options: EncodeOptions = {}): TokenSpan[] {
    const spans: TokenSpan[] = [];
    this.visit(text, options, undefined, (id, start, end) => spans.push({ id, start, end }));
    return spans;
  }

  /** The number of tokens of `text`, without building the id array. */
  countTokens(text: string, options: EncodeOptions = {}): number {
    const counter = { n: 0, push: () => counter.n++ };
    this.visit(text, options, counter);
    return counter.n;
  }

  /** Encodes several texts. */
  encodeBatch(texts: readonly string[], options: EncodeOptions = {}): number[][] {
    return texts.map((t) => this.encode(t, options));
  }

  /** The bytes of a sequence of ids (invalid UTF-8 is possible mid-sequence). */
  decodeBytes(ids: Iterable<number>): Uint8Array {
    const parts: string[] = [];
    for (const id of ids) {
      const special = this.specialById.get(id);
      if (special !== undefined) parts.push(utf8ByteString(special));
      else {
        const bytes = this.decoder[id];
        if (bytes === undefined)
          throw new RangeError(
            `${this.name}: unknown token id ${id} (vocabulary size ${this.vocabSize})`,
          );
        parts.push(bytes);
      }
    }
    return fromByteString(parts.join(''));
  }

  /** Text of a sequence of ids; bytes that are not valid UTF-8 become U+FFFD. */
  decode(ids: Iterable<number>): string {
    return new TextDecoder().decode(this.decodeBytes(ids));
  }

  /** A decoder for streaming: feed ids, get text only at UTF-8 character boundaries. */
  streamDecoder(): StreamDecoder {
    return new StreamDecoder((id) => this.tokenBytes(id));
  }

  /** Byte strings of the ordinary tokens by id (for saving). */
  get ranks(): ReadonlyMap<string, number> {
    return this.model.encoder;
  }

  /** Merge priorities, when the model came from a merges list. */
  get mergeRanks(): ReadonlyMap<string, number> | undefined {
    return this.model.merges;
  }
}
