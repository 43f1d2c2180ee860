import { Module } from '@tessera/nn';
import { meanPool } from '@tessera/rag/losses';
import * as T from '@tessera/tensor-webgpu';
import { type Tokenizer, trainBpe } from '@tessera/tokenizer';
import { ClassificationHead, Encoder, type TransformerConfig } from '@tessera/transformer';

/** The special tokens the retrieval tokenizer adds: padding, the first token, the separator. */
export const RETRIEVAL_SPECIALS = ['[PAD]', '[CLS]', '[SEP]'] as const;

/**
 * The form in which the retrieval encoders read a text: lowercased, its runs of letters, digits
 * and apostrophes joined by single spaces (as BERT-uncased lowercases and splits punctuation off).
 * Questions and passages go through the same form, so a word is the same tokens in both: without
 * it, "Torches," at the head of a verse line and "torches" in a question share no token.
 */
export function retrievalText(text: string): string {
  return (text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []).join(' ');
}

/**
 * A byte-level BPE tokenizer of `vocabSize` tokens learned from `texts` in their
 * {@link retrievalText} form, with {@link RETRIEVAL_SPECIALS}.
 */
export function retrievalTokenizer(texts: readonly string[], vocabSize: number): Tokenizer {
  return trainBpe(texts.map(retrievalText), {
    vocabSize,
    specialTokens: RETRIEVAL_SPECIALS,
    name: 'retrieval',
  });
}

/** A padded batch of token rows: ids i32 [B, T] and mask f32 [B, T] (1 real, 0 padding). */
export interface TokenRows {
  ids: T.Tensor;
  mask: T.Tensor;
}

/** Rows of ids padded with `padId` to the longest, as tensors on `device`. */
export function padRows(rows: readonly number[][], padId: number, device: T.Device): TokenRows {
  const width = Math.max(1, ...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * width).fill(padId);
  const mask = new Float32Array(rows.length * width);
  rows.forEach((r, i) => {
    ids.set(r, i * width);
    mask.fill(1, i * width, i * width + r.length);
  });
  const shape = [rows.length, width];
  return { ids: T.tensor(ids, { shape, device }), mask: T.tensor(mask, { shape, device }) };
}

/** Text → the ids of its {@link retrievalText} form, special-token text read as plain text. */
export function retrievalIds(tokenizer: Tokenizer, text: string): number[] {
  return tokenizer.encode(retrievalText(text), { disallowedSpecial: [] });
}

/**
 * A bi-encoder for dense retrieval: the bidirectional transformer encoder, its hidden states
 * mean-pooled over the real tokens (Sentence-BERT). Queries and passages go through the same
 * weights; their cosine similarity ranks passages.
 */
export class BiEncoder extends Module {
  encoder: Encoder;

  constructor(
    config: TransformerConfig,
    readonly device: T.Device,
  ) {
    super();
    this.encoder = new Encoder(config, device);
  }

  /** ids i32 [B, T], mask f32 [B, T] → embeddings f32 [B, dModel]. */
  forward(rows: TokenRows): T.Tensor {
    return meanPool(this.encoder.forward(rows.ids, { mask: rows.mask }), rows.mask);
  }

  /**
   * Token rows of texts for this encoder. With `truncate`, a text is cut at the window (the
   * passages of a corpus, as sentence-transformers' `max_seq_length` cuts them); without, a text
   * longer than the window is an error naming it (a question, which a cut would change).
   *
   * @throws RangeError - a text of more tokens than the encoder's `maxSeqLen`, without `truncate`
   */
  rows(
    tokenizer: Tokenizer,
    texts: readonly string[],
    what = 'text',
    truncate = false,
  ): number[][] {
    const window = this.encoder.config.maxSeqLen;
    return texts.map((text) => {
      const ids = retrievalIds(tokenizer, text);
      if (ids.length > window && !truncate)
        throw new RangeError(
          `${what} ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)} has ${ids.length} tokens; the encoder's window is ${window}`,
        );
      return ids.slice(0, window);
    });
  }

  override dispose(): void {
    this.encoder.dispose();
    super.dispose();
  }
}

/**
 * A cross-encoder reranker (Nogueira & Cho's monoBERT): `[CLS] query [SEP] passage` through the
 * encoder, a scalar from the first token's hidden state (`ClassificationHead` with one output).
 */
export class CrossEncoder extends Module {
  encoder: Encoder;
  head: ClassificationHead;

  constructor(
    config: TransformerConfig,
    readonly device: T.Device,
  ) {
    super();
    this.encoder = new Encoder(config, device);
    this.head = new ClassificationHead(this.encoder.config.dModel, 1, {
      device,
      seed: (config.seed ?? 0) + 1,
    });
  }

  /** ids i32 [B, T], mask f32 [B, T] → relevance scores f32 [B]. */
  forward(rows: TokenRows): T.Tensor {
    const hidden = this.encoder.forward(rows.ids, { mask: rows.mask });
    return T.reshape(this.head.forward(hidden), [rows.ids.shape[0]!]);
  }

  /**
   * The row of a (query, passage) pair: `[CLS] query [SEP] passage`, the passage cut at the
   * window (BERT's "only second" truncation).
   *
   * @throws RangeError - the query alone does not leave room for a passage token
   */
  pairRow(tokenizer: Tokenizer, query: string, passage: string): number[] {
    const window = this.encoder.config.maxSeqLen;
    const q = retrievalIds(tokenizer, query);
    if (q.length + 3 > window)
      throw new RangeError(
        `query ${JSON.stringify(query.length > 60 ? `${query.slice(0, 60)}…` : query)} has ${q.length} tokens; the reranker's window of ${window} holds at most ${window - 3}`,
      );
    const head = [tokenizer.specialId('[CLS]'), ...q, tokenizer.specialId('[SEP]')];
    return [...head, ...retrievalIds(tokenizer, passage).slice(0, window - head.length)];
  }

  override dispose(): void {
    this.encoder.dispose();
    super.dispose();
  }
}
