import { type AddedToken, AddedVocabulary } from './added-tokens.js';
import { type BertNormalizerOptions, bertNormalize, bertPreTokenize } from './bert.js';
import { checkOptions } from './options.js';
import { type TokenizerLike, vocabSizeOf } from './tokenizer-like.js';

/** Hugging Face's WordPiece decoder. */
export interface WordPieceDecoder {
  /** A token starting with it is glued to the one before (without it); others get a space. */
  prefix: string;
  /** Remove the spaces the join put before `.`, `?`, `!`, `,` and some English contractions. */
  cleanup: boolean;
}

export interface WordPieceOptions extends Partial<BertNormalizerOptions> {
  /** Token → id. */
  vocab: ReadonlyMap<string, number>;
  /** The token of a word with no segmentation. Default `'[UNK]'`; must be in `vocab`. */
  unkToken?: string;
  /** What starts a piece that continues a word. Default `'##'`. */
  prefix?: string;
  /** A longer word (in code points) is `unkToken` whole. Default 100. */
  maxInputCharsPerWord?: number;
  /**
   * Tokens matched before normalization (or after, with `normalized`), with Hugging Face's
   * flags; they keep their ids. Special or not, all are always matched, as Hugging Face does.
   */
  addedTokens?: readonly AddedToken[];
  /** Special tokens around a sequence with `addSpecialTokens` (BERT: [CLS] … [SEP]). */
  template?: { before: string[]; after: string[] };
  /**
   * How `decode` joins tokens: Hugging Face's WordPiece decoder, or `null` for none (tokens
   * joined with spaces). Default `{ prefix, cleanup: true }`.
   */
  decoder?: WordPieceDecoder | null;
}

const OPTIONS = [
  'vocab',
  'unkToken',
  'prefix',
  'maxInputCharsPerWord',
  'lowercase',
  'stripAccents',
  'cleanText',
  'handleChineseChars',
  'addedTokens',
  'template',
  'decoder',
];

/** The WordPiece decoder's `cleanup` (`decoders/wordpiece.rs`), applied to each token on its own. */
function cleanup(token: string): string {
  return token
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/**
 * BERT's WordPiece tokenizer, as Hugging Face's pipeline runs it (BertNormalizer,
 * BertPreTokenizer, WordPiece model, WordPiece decoder): added tokens are found first, with
 * their flags, by the same matcher as the byte-level BPE; the rest is normalized (cleaned, CJK
 * isolated, accents stripped, lowercased), split at whitespace and punctuation, and each word
 * takes the longest vocabulary match from the left, continuing with `##` pieces; a word with no
 * full segmentation, or longer than `maxInputCharsPerWord`, becomes `unkToken`.
 */
export class WordPieceTokenizer implements TokenizerLike {
  /** Special added tokens by text. */
  readonly specialTokens: Readonly<Record<string, number>>;
  readonly addedTokens: readonly AddedToken[];
  private readonly vocab: ReadonlyMap<string, number>;
  /** Each id's text: its vocabulary token, or an added token's content. */
  /** One more than the largest id (vocabulary or added). */
  readonly vocabSize: number;
  private readonly tokens: string[] = [];
  private readonly specialIds = new Set<number>();
  private readonly vocabulary: AddedVocabulary;
  private readonly unkId: number;
  private readonly prefix: string;
  private readonly maxInputCharsPerWord: number;
  private readonly normalizer: BertNormalizerOptions;
  private readonly template: { before: string[]; after: string[] } | undefined;
  private readonly decoder: WordPieceDecoder | null;

  /**
   * @throws TypeError - an unknown option
   * @throws Error - `unkToken` is not in `vocab`, or an added token has the id of another vocabulary token
   */
  constructor(options: WordPieceOptions) {
    checkOptions('WordPieceTokenizer', options, OPTIONS);
    this.vocab = options.vocab;
    this.prefix = options.prefix ?? '##';
    this.maxInputCharsPerWord = options.maxInputCharsPerWord ?? 100;
    const lowercase = options.lowercase ?? true;
    this.normalizer = {
      cleanText: options.cleanText ?? true,
      handleChineseChars: options.handleChineseChars ?? true,
      stripAccents: options.stripAccents ?? lowercase,
      lowercase,
    };
    this.template = options.template;
    this.decoder =
      options.decoder === undefined ? { prefix: this.prefix, cleanup: true } : options.decoder;
    for (const [t, id] of options.vocab) this.tokens[id] = t;
    const unkToken = options.unkToken ?? '[UNK]';
    const unkId = options.vocab.get(unkToken);
    if (unkId === undefined)
      throw new Error(
        `WordPiece: the vocabulary lacks the unknown token ${JSON.stringify(unkToken)}`,
      );
    this.unkId = unkId;
    this.addedTokens = options.addedTokens ?? [];
    const specials: Record<string, number> = {};
    for (const t of this.addedTokens) {
      const other = this.tokens[t.id];
      if (other !== undefined && other !== t.content)
        throw new Error(
          `WordPiece: added token ${JSON.stringify(t.content)} has id ${t.id}, which is the vocabulary token ${JSON.stringify(other)}`,
        );
      // Hugging Face decodes a normalized added token as its normalized text.
      this.tokens[t.id] = t.normalized ? bertNormalize(t.content, this.normalizer) : t.content;
      if (t.special) {
        specials[t.content] = t.id;
        this.specialIds.add(t.id);
      }
    }
    this.specialTokens = specials;
    this.vocabSize = vocabSizeOf([options.vocab.values(), this.addedTokens.map((t) => t.id)]);
    this.vocabulary = new AddedVocabulary(this.addedTokens, (text) =>
      bertNormalize(text, this.normalizer),
    );
  }

  /** The id of a special token, or of a vocabulary token, by its text; throws if neither. */
  specialId(text: string): number {
    const id = this.specialTokens[text] ?? this.vocab.get(text);
    if (id === undefined) throw new Error(`WordPiece: no special token ${JSON.stringify(text)}`);
    return id;
  }

  /** The ids of one word (Hugging Face's `WordPiece::tokenize`). */
  private wordIds(word: string, ids: number[]): void {
    const chars = [...word];
    if (chars.length > this.maxInputCharsPerWord) {
      ids.push(this.unkId);
      return;
    }
    const pieces: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      for (; start < end; end--) {
        const text = chars.slice(start, end).join('');
        found = this.vocab.get(start > 0 ? this.prefix + text : text);
        if (found !== undefined) break;
      }
      if (found === undefined) {
        ids.push(this.unkId);
        return;
      }
      pieces.push(found);
      start = end;
    }
    ids.push(...pieces);
  }

  /**
   * Token ids of `text`, with the template's tokens around them when `addSpecialTokens`.
   *
   * @throws TypeError - an unknown option
   * @throws Error - where Hugging Face fails (an `lstrip` added token inside whitespace an
   *   `rstrip` one took)
   */
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    checkOptions('WordPieceTokenizer.encode', options, ['addSpecialTokens']);
    const ids: number[] = [];
    const t = options.addSpecialTokens ? this.template : undefined;
    if (t) for (const s of t.before) ids.push(this.specialId(s));
    this.vocabulary.split(
      text,
      () => false,
      (part) => {
        for (const word of bertPreTokenize(part)) this.wordIds(word, ids);
      },
      (token) => ids.push(token.id),
    );
    if (t) for (const s of t.after) ids.push(this.specialId(s));
    return ids;
  }

  /**
   * Text of ids, as Hugging Face's `decode`: each id's token (an added token's content), special
   * added tokens left out with `skipSpecialTokens`, joined by the decoder (the WordPiece one
   * glues `##` pieces and cleans up; without a decoder, spaces).
   *
   * @throws RangeError - an unknown id (Hugging Face leaves it out)
   * @throws TypeError - an unknown option
   */
  decode(ids: Iterable<number>, options: { skipSpecialTokens?: boolean } = {}): string {
    checkOptions('WordPieceTokenizer.decode', options, ['skipSpecialTokens']);
    const tokens: string[] = [];
    for (const id of ids) {
      const t = this.tokens[id];
      if (t === undefined)
        throw new RangeError(
          `WordPiece: unknown token id ${id} (vocabulary size ${this.vocabSize})`,
        );
      if (!(options.skipSpecialTokens && this.specialIds.has(id))) tokens.push(t);
    }
    const d = this.decoder;
    if (!d) return tokens.join(' ');
    return tokens
      .map((t, i) => {
        const glued = i === 0 ? t : t.startsWith(d.prefix) ? t.slice(d.prefix.length) : ` ${t}`;
        return d.cleanup ? cleanup(glued) : glued;
      })
      .join('');
  }
}
