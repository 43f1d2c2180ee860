import { type AddedToken, AddedVocabulary } from './added-tokens.js';
import { BytePairModel } from './bpe.js';
import { byteLevelDecodeBytes, fromByteString, utf8ByteString } from './bytes.js';
import { checkOptions } from './options.js';
import {
  huggingFacePreTokenizer,
  type PreTokenize,
  type PreTokenizerStep,
  tiktokenPreTokenizer,
} from './pre-tokenizer.js';
import { StreamDecoder } from './stream.js';
import { type TokenizerLike, vocabSizeOf } from './tokenizer-like.js';

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

const ENCODE_OPTIONS = ['allowedSpecial', 'disallowedSpecial', 'addSpecialTokens'] as const;

/** How ids become text. */
export interface DecodeOptions {
  /** Leave out special tokens (Hugging Face's `skip_special_tokens`). Default false. */
  skipSpecialTokens?: boolean;
}

const DECODE_OPTIONS = ['skipSpecialTokens'] as const;

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
  /**
   * The split pattern, in tiktoken's syntax and meaning (Rust's fancy-regex; translated for
   * JavaScript), with tiktoken's semantics: the pieces are its matches, and text no alternative
   * matches is skipped. Give either this or `preTokenizer`.
   */
  pattern?: string;
  /** Hugging Face pre-tokenizer steps (from a `tokenizer.json`), instead of `pattern`. */
  preTokenizer?: readonly PreTokenizerStep[];
  /** Special token text → id (matched only when allowed; no Hugging Face flags). */
  specialTokens?: Record<string, number>;
  /** Hugging Face added tokens with their flags, special or not (a `tokenizer.json`). */
  addedTokens?: readonly AddedToken[];
  /** Name, for messages and saved files. */
  name?: string;
  /** With merges: a piece that is a token is taken whole (Hugging Face `ignore_merges`, Llama-3). */
  ignoreMerges?: boolean;
  /** Unicode normalization applied before splitting (Hugging Face `NFC` normalizer, Qwen). */
  normalize?: 'NFC';
  /** Special tokens placed around a sequence when `addSpecialTokens` is requested (TemplateProcessing). */
  template?: { before: string[]; after: string[] };
  /**
   * The Hugging Face decoder: with `'ByteLevel'` an added token decodes to the bytes that
   * decoder gives its text (`byteLevelDecodeBytes`: `"café"` becomes `c a f 0xE9`); without
   * one, to its UTF-8 text (tiktoken). Either way a `normalized` added token's text is first
   * normalized, as Hugging Face stores it.
   */
  decoder?: 'ByteLevel';
}

const CONFIG_KEYS = [
  'encoder',
  'merges',
  'pattern',
  'preTokenizer',
  'specialTokens',
  'addedTokens',
  'name',
  'ignoreMerges',
  'normalize',
  'template',
  'decoder',
] as const;

/** Where encoded tokens go; `spans: false` when the sink ignores `start` and `end`. */
interface TokenSink {
  push(id: number, start: number, end: number): void;
  readonly spans: boolean;
}

/** Pieces longer than this are not cached: long runs are rare, and costly to hash and keep. */
const MAX_CACHED_PIECE = 256;
const CACHE_LIMIT = 200_000;

/** Every added token of a config: its `addedTokens`, then its `specialTokens` with no flags. */
function addedTokensOf(config: TokenizerConfig): AddedToken[] {
  const tokens = [...(config.addedTokens ?? [])];
  const byContent = new Map(tokens.map((t) => [t.content, t]));
  for (const [content, id] of Object.entries(config.specialTokens ?? {})) {
    const known = byContent.get(content);
    if (known && (known.id !== id || !known.special))
      throw new Error(
        `Tokenizer: special token ${JSON.stringify(content)} (id ${id}) differs from the added token of that text (id ${known.id}${known.special ? '' : ', not special'})`,
      );
    if (!known)
      tokens.push({
        id,
        content,
        special: true,
        singleWord: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
      });
  }
  return tokens;
}

/**
 * A byte-level BPE tokenizer: encodes exactly like tiktoken (or a Hugging Face byte-level BPE)
 * for the same ranks and pattern. Every ordinary id decodes to bytes; text is recovered from the
 * concatenated bytes, so decode(encode(x)) === x for every valid string.
 *
 * Encoding follows Hugging Face's pipeline: added tokens are found in the raw text (those with
 * `normalized: false`), the rest is normalized and searched for the other added tokens, then
 * pre-tokenized into pieces, and each piece is merged by BPE in O(n log n) of its length.
 */
export class Tokenizer implements TokenizerLike {
  readonly name: string;
  /** The tiktoken-style split pattern; undefined when Hugging Face pre-tokenizer steps split. */
  readonly pattern: string | undefined;
  readonly specialTokens: Readonly<Record<string, number>>;
  /** Added tokens (special or not), with their Hugging Face flags. */
  readonly addedTokens: readonly AddedToken[];
  private readonly model: BytePairModel;
  private readonly preTokenize: PreTokenize;
  /** One more than the largest id (ordinary or added). */
  readonly vocabSize: number;
  private readonly decoder: string[] = [];
  private readonly addedById = new Map<number, AddedToken>();
  /** The byte string each added token decodes to, by id. */
  private readonly addedBytes = new Map<number, string>();
  private readonly vocabulary: AddedVocabulary;
  private readonly pieceCache = new Map<string, readonly number[]>();
  /** @internal How the tokenizer was made (for saving it again). */
  readonly config: TokenizerConfig;

  constructor(config: TokenizerConfig) {
    checkOptions('Tokenizer', config, CONFIG_KEYS);
    this.name = config.name ?? 'bpe';
    this.pattern = config.pattern;
    if ((config.pattern === undefined) === (config.preTokenizer === undefined))
      throw new TypeError('Tokenizer: give exactly one of config.pattern and config.preTokenizer');
    this.preTokenize = config.preTokenizer
      ? huggingFacePreTokenizer(config.preTokenizer)
      : tiktokenPreTokenizer(config.pattern!);
    this.model = new BytePairModel(config.encoder, config.merges, config.ignoreMerges ?? false);
    this.config = config;
    for (const [bytes, id] of config.encoder) this.decoder[id] = bytes;
    this.addedTokens = addedTokensOf(config);
    const specials: Record<string, number> = {};
    const normalize = config.normalize;
    for (const t of this.addedTokens) {
      // Hugging Face decodes a normalized added token as its normalized text.
      const text = t.normalized && normalize ? t.content.normalize(normalize) : t.content;
      const bytes =
        config.decoder === 'ByteLevel' ? byteLevelDecodeBytes(text) : utf8ByteString(text);
      const ordinary = this.decoder[t.id];
      // Hugging Face gives an added token whose text is a vocabulary entry that entry's id.
      if (ordinary !== undefined && ordinary !== bytes)
        throw new Error(
          `Tokenizer: added token ${JSON.stringify(t.content)} has id ${t.id}, which is the ordinary token ${JSON.stringify(ordinary)}`,
        );
      this.addedById.set(t.id, t);
      this.addedBytes.set(t.id, bytes);
      if (t.special) specials[t.content] = t.id;
    }
    this.specialTokens = specials;
    this.vocabSize = vocabSizeOf([config.encoder.values(), this.addedById.keys()]);
    this.vocabulary = new AddedVocabulary(
      this.addedTokens,
      normalize ? (text) => text.normalize(normalize) : undefined,
    );
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

  /** The byte string of a token: an ordinary one's bytes, or what an added one decodes to. */
  private byteString(id: number): string {
    const bytes = this.addedBytes.get(id) ?? this.decoder[id];
    if (bytes === undefined)
      throw new RangeError(
        `${this.name}: unknown token id ${id} (vocabulary size ${this.vocabSize})`,
      );
    return bytes;
  }

  /**
   * The bytes of one token: an ordinary token's bytes; an added token's UTF-8 text, or with
   * `config.decoder: 'ByteLevel'` the bytes Hugging Face's ByteLevel decoder gives it (of its
   * normalized text, when it is `normalized`).
   *
   * @throws RangeError - an unknown id
   */
  tokenBytes(id: number): Uint8Array {
    return fromByteString(this.byteString(id));
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

  /** Visits every token of `text` in order: the one loop all encoders share. */
  private visit(where: string, text: string, options: EncodeOptions, sink: TokenSink): void {
    checkOptions(where, options, ENCODE_OPTIONS);
    const template = options.addSpecialTokens ? this.config.template : undefined;
    if (template) for (const t of template.before) sink.push(this.specialId(t), 0, 0);
    const allowed = this.allowedSet(options);
    this.checkDisallowed(text, allowed, options);
    const piece = (p: string, start: number, addedChars: number) =>
      this.encodePiece(p, start, addedChars, sink);
    // Spans after a normalizer that changed the text refer to the normalized text.
    this.vocabulary.split(
      text,
      (t) => t.special && !allowed.has(t.content),
      (part, start) => this.preTokenize(part, start, piece),
      (t, start, end) => sink.push(t.id, start, end),
    );
    if (template)
      for (const t of template.after) sink.push(this.specialId(t), text.length, text.length);
  }

  /** Ids of one pre-tokenized piece, cached by the piece's text when it is short. */
  private pieceIds(piece: string): readonly number[] {
    let ids = this.pieceCache.get(piece);
    if (ids === undefined) {
      ids = this.model.encodePiece(utf8ByteString(piece));
      if (piece.length <= MAX_CACHED_PIECE) {
        if (this.pieceCache.size >= CACHE_LIMIT) this.pieceCache.clear();
        this.pieceCache.set(piece, ids);
      }
    }
    return ids;
  }

  /** Encodes one piece starting at `start` in the input, whose first `added` chars are not in it. */
  private encodePiece(piece: string, start: number, added: number, sink: TokenSink): void {
    const ids = this.pieceIds(piece);
    if (ids.length === 1) sink.push(ids[0]!, start, start + piece.length - added);
    else if (!sink.spans) for (let i = 0; i < ids.length; i++) sink.push(ids[i]!, 0, 0);
    else this.emitSpans(piece, start, added, ids, sink);
  }

  /**
   * Spans of a piece's tokens: a token covers every character it has bytes of, so tokens that
   * split one character (an emoji across two tokens) both cover that character. An added prefix
   * space covers nothing (an empty span where the piece starts).
   */
  private emitSpans(
    piece: string,
    start: number,
    added: number,
    ids: readonly number[],
    sink: TokenSink,
  ): void {
    // For each byte of the piece: the input span of the character it belongs to.
    const charStart: number[] = [];
    const charEnd: number[] = [];
    for (let i = 0; i < piece.length; ) {
      const code = piece.codePointAt(i)!;
      const units = code > 0xffff ? 2 : 1;
      const bytes = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
      const at = start + Math.max(0, i - added);
      for (let k = 0; k < bytes; k++) {
        charStart.push(at);
        charEnd.push(i < added ? at : at + units);
      }
      i += units;
    }
    let byte = 0;
    for (const id of ids) {
      const len = this.decoder[id]!.length;
      sink.push(id, charStart[byte]!, charEnd[byte + len - 1]!);
      byte += len;
    }
  }

  /**
   * Token ids of `text`. Special-token text is an error unless allowed (tiktoken's policy);
   * added tokens that are not special are always matched (Hugging Face's behaviour).
   *
   * @throws Error - the text holds a special token that is neither allowed nor exempted
   * @throws TypeError - an unknown option
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    this.visit('encode', text, options, { spans: false, push: (id) => ids.push(id) });
    return ids;
  }

  /**
   * Token ids with the span of `text` each covers (UTF-16 indices; an added prefix space covers
   * an empty span; after a normalizer that changed the text, spans index the normalized text).
   */
  encodeWithOffsets(text: string, options: EncodeOptions = {}): TokenSpan[] {
    const spans: TokenSpan[] = [];
    this.visit('encodeWithOffsets', text, options, {
      spans: true,
      push: (id, start, end) => spans.push({ id, start, end }),
    });
    return spans;
  }

  /** The number of tokens of `text`, without building the id array. */
  countTokens(text: string, options: EncodeOptions = {}): number {
    let n = 0;
    this.visit('countTokens', text, options, { spans: false, push: () => n++ });
    return n;
  }

  /** Encodes several texts. */
  encodeBatch(texts: readonly string[], options: EncodeOptions = {}): number[][] {
    checkOptions('encodeBatch', options, ENCODE_OPTIONS);
    return texts.map((t) => this.encode(t, options));
  }

  /**
   * The bytes of a sequence of ids, each token's as {@link tokenBytes} gives them (invalid UTF-8
   * is possible mid-sequence).
   *
   * @throws RangeError - an unknown id
   * @throws TypeError - an unknown option
   */
  decodeBytes(ids: Iterable<number>, options: DecodeOptions = {}): Uint8Array {
    checkOptions('decodeBytes', options, DECODE_OPTIONS);
    const parts: string[] = [];
    for (const id of ids) {
      const bytes = this.byteString(id);
      if (!(options.skipSpecialTokens && this.addedById.get(id)?.special)) parts.push(bytes);
    }
    return fromByteString(parts.join(''));
  }

  /**
   * Text of a sequence of ids, as Hugging Face's `decode` gives it for a byte-level BPE: the
   * tokens' bytes joined, then read as UTF-8 with U+FFFD for each invalid sequence.
   *
   * @throws RangeError - an unknown id (Hugging Face leaves it out)
   * @throws TypeError - an unknown option
   */
  decode(ids: Iterable<number>, options: DecodeOptions = {}): string {
    checkOptions('decode', options, DECODE_OPTIONS);
    return new TextDecoder().decode(this.decodeBytes(ids, options));
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
