import type { Embedder, Reranker } from '@tessera/rag';
import * as T from '@tessera/tensor-webgpu';
import type { Tokenizer } from '@tessera/tokenizer';
import { type BiEncoder, type CrossEncoder, padRows } from './encoders.js';

/** Texts per forward pass when embedding or scoring. */
const BATCH = 32;

async function inBatches<T>(count: number, run: (from: number, to: number) => Promise<T[]>) {
  const out: T[] = [];
  for (let from = 0; from < count; from += BATCH)
    out.push(...(await run(from, Math.min(count, from + BATCH))));
  return out;
}

/** A text for messages: JSON-quoted, cut after 60 characters. */
const quoted = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);

/**
 * A trained bi-encoder as `@tessera/rag`'s `Embedder`: texts in batches of 32, without
 * gradients. A text longer than the encoder's window is a RangeError naming it, or, with
 * `truncate` (for embedding a corpus), cut at the window. A text whose embedding is all zeros
 * (one of punctuation alone, whose pooled tokens cancel or are none) is a RangeError naming it:
 * cosine similarity has no direction to compare it by.
 */
export function asEmbedder(model: BiEncoder, tokenizer: Tokenizer, truncate = false): Embedder {
  const pad = tokenizer.specialId('[PAD]');
  return {
    embed: (texts) => {
      const rows = model.rows(tokenizer, texts, 'text', truncate);
      return inBatches(rows.length, async (from, to) => {
        const out = T.noGrad(() =>
          T.tidy(() => model.forward(padRows(rows.slice(from, to), pad, model.device))),
        );
        const data = await out.data();
        out.dispose();
        const d = out.shape[1]!;
        return Array.from({ length: to - from }, (_, i) => {
          const vector = Float32Array.from(data.subarray(i * d, (i + 1) * d));
          if (vector.every((x) => x === 0))
            throw new RangeError(
              `text ${quoted(texts[from + i]!)} embeds to all zeros, which has no cosine direction: give it words the encoder knows`,
            );
          return vector;
        });
      });
    },
  };
}

/** A trained cross-encoder as `@tessera/rag`'s `Reranker`: (query, passage) rows in batches of 32. */
export function asReranker(model: CrossEncoder, tokenizer: Tokenizer): Reranker {
  const pad = tokenizer.specialId('[PAD]');
  return {
    score: (query, docs) => {
      const rows = docs.map((d) => model.pairRow(tokenizer, query, d));
      return inBatches(rows.length, async (from, to) => {
        const out = T.noGrad(() =>
          T.tidy(() => model.forward(padRows(rows.slice(from, to), pad, model.device))),
        );
        const data = Array.from(await out.data());
        out.dispose();
        return data;
      });
    },
  };
}
