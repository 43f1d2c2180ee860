import { traceRouting } from '@tessera/moe';
import * as T from '@tessera/tensor-webgpu';
import type { Tokenizer } from '@tessera/tokenizer';
import type { DecoderLM } from '@tessera/transformer';
import { escapeXml } from './expert-load.js';

/** A sentence's routing: its tokens and, by MoE layer path, each token's k experts (first = highest score). */
export interface SentenceRouting {
  tokens: string[];
  experts: Record<string, number[][]>;
}

/**
 * The experts each MoE layer of `model` chooses for each token of `text` (at most `maxTokens`),
 * in eval mode, without a gradient. The model's mode is restored.
 */
export async function routeSentence(
  model: DecoderLM,
  tokenizer: Tokenizer,
  text: string,
  maxTokens = 24,
): Promise<SentenceRouting> {
  const ids = tokenizer.encode(text, { disallowedSpecial: [] }).slice(0, maxTokens);
  const training = model.training;
  model.eval();
  try {
    const trace = await traceRouting(model, () =>
      T.noGrad(() =>
        T.tidy(() => {
          model.forward(
            T.tensor(Int32Array.from(ids), { shape: [1, ids.length], device: model.device }),
          );
        }),
      ),
    );
    return {
      tokens: Array.from(ids, (id) => tokenizer.decode([id])),
      experts: Object.fromEntries(
        Object.entries(trace).map(([layer, passes]) => [layer, passes[0]!]),
      ),
    };
  } finally {
    if (training) model.train();
  }
}

/** A colour per expert: evenly spaced hues. */
export const expertColour = (e: number, experts: number) =>
  `hsl(${Math.round((360 * e) / experts)}, 65%, 72%)`;

/**
 * A sentence's routing as SVG: the tokens across, one row per MoE layer, each cell coloured by
 * the token's first-choice expert and labelled with all k of its experts, as the ST-MoE and
 * Mixtral papers draw token routing.
 */
export function routingSvg(r: SentenceRouting, experts: number, title: string): string {
  const widths = r.tokens.map((t) => Math.max(30, 7 * [...t].length + 10));
  const [left, top, rowH] = [130, 36, 26];
  const parts: string[] = [];
  const xs = widths.map((_, i) => left + widths.slice(0, i).reduce((a, b) => a + b, 0));
  for (const [i, t] of r.tokens.entries())
    parts.push(
      `<text x="${xs[i]! + widths[i]! / 2}" y="${top + 12}" font-size="11" font-family="monospace" text-anchor="middle" xml:space="preserve">${escapeXml(t.replace(/\n/g, '↵'))}</text>`,
    );
  const layers = Object.entries(r.experts);
  for (const [row, [name, choices]] of layers.entries()) {
    const y = top + 20 + row * rowH;
    parts.push(`<text x="4" y="${y + 16}" font-size="11">${name}</text>`);
    for (const [i, chosen] of choices.entries())
      parts.push(
        `<rect x="${xs[i]}" y="${y}" width="${widths[i]! - 2}" height="${rowH - 4}" fill="${expertColour(chosen[0]!, experts)}"/>`,
        `<text x="${xs[i]! + widths[i]! / 2 - 1}" y="${y + 15}" font-size="10" text-anchor="middle">${chosen.join(',')}</text>`,
      );
  }
  const legendY = top + 28 + layers.length * rowH;
  for (let e = 0; e < experts; e++)
    parts.push(
      `<rect x="${left + e * 34}" y="${legendY}" width="30" height="14" fill="${expertColour(e, experts)}"/>`,
      `<text x="${left + e * 34 + 15}" y="${legendY + 11}" font-size="10" text-anchor="middle">${e}</text>`,
    );
  parts.push(`<text x="4" y="${legendY + 11}" font-size="10">first-choice expert</text>`);
  const width = Math.max(left + widths.reduce((a, b) => a + b, 0), left + experts * 34) + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${legendY + 24}" font-family="sans-serif">`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="4" y="20" font-size="13">${escapeXml(title)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
