import { readRoutingStats } from '@tessera/moe';
import type { Module } from '@tessera/nn';

/** Each MoE layer's expert load over a run, in columns of a few steps each (`report`'s heat map). */
export interface ExpertLoadHistory {
  /** The step count after which each column was read; a column covers the steps since the one before. */
  steps: number[];
  /** By layer path (`model.layers.0.mlp`): per column, each expert's assignments over the mean (1 = balanced). */
  load: Record<string, number[][]>;
  /**
   * By layer path: per column, the share of assignments the capacity cut dropped (0 when
   * dropless). Absent from runs recorded before it was.
   */
  dropped?: Record<string, number[]>;
}

/**
 * Records the expert load of every MoE layer of a model while it trains: the routing counts the
 * layers keep on the device are read every `every` steps (one read-back then, none between), so
 * a run of any length gives at most about `columns` columns. Holds nothing for a dense model.
 */
export class ExpertLoadRecorder {
  readonly every: number;
  readonly history: ExpertLoadHistory;

  constructor(
    private readonly model: Module,
    totalSteps: number,
    saved?: ExpertLoadHistory,
    columns = 200,
  ) {
    this.every = Math.max(1, Math.ceil(totalSteps / columns));
    this.history = saved ?? { steps: [], load: {}, dropped: {} };
  }

  /** After step `stepsDone` (1-based count): reads the counts when a column is full. */
  async afterStep(stepsDone: number): Promise<void> {
    if (stepsDone % this.every === 0) await this.read(stepsDone);
  }

  /** Reads the counts since the last column into a new one, if any step was taken since. */
  async read(stepsDone: number): Promise<void> {
    if (stepsDone <= (this.history.steps.at(-1) ?? 0)) return;
    const stats = await readRoutingStats(this.model);
    if (Object.keys(stats).length === 0) return;
    this.history.steps.push(stepsDone);
    for (const [layer, s] of Object.entries(stats)) {
      const mean = s.tokensPerExpert.reduce((a, b) => a + b, 0) / s.tokensPerExpert.length;
      const column = s.tokensPerExpert.map((n) => (mean > 0 ? n / mean : 0));
      this.history.load[layer] = [...(this.history.load[layer] ?? []), column];
      this.history.dropped ??= {};
      this.history.dropped[layer] = [...(this.history.dropped[layer] ?? []), s.droppedShare];
    }
  }
}

/** Max over experts of the load over the mean in the last column, by layer (1 = balanced). */
export function finalMaxLoad(h: ExpertLoadHistory): Record<string, number> {
  return Object.fromEntries(
    Object.entries(h.load).map(([layer, cols]) => [layer, Math.max(...(cols.at(-1) ?? [0]))]),
  );
}

/** The share of assignments dropped by the capacity cut in the last column, by layer (0 when dropless); empty for runs recorded before it was. */
export function finalDroppedShare(h: ExpertLoadHistory): Record<string, number> {
  return Object.fromEntries(
    Object.entries(h.dropped ?? {}).map(([layer, cols]) => [layer, cols.at(-1) ?? 0]),
  );
}

/** A colour for load x (over the mean): white at 0, blue at 1 (balanced), dark red at 2 and above. */
export function loadColour(x: number): string {
  const stops: [number, [number, number, number]][] = [
    [0, [255, 255, 255]],
    [1, [66, 146, 198]],
    [2, [165, 15, 21]],
  ];
  const v = Math.min(2, Math.max(0, x));
  const i = v >= 1 ? 1 : 0;
  const [a, ca] = stops[i]!;
  const [b, cb] = stops[i + 1]!;
  const t = (v - a) / (b - a);
  const rgb = ca.map((c, j) => Math.round(c + t * (cb[j]! - c)));
  return `rgb(${rgb.join(',')})`;
}

/**
 * The heat map of a run's expert load as SVG: one panel per MoE layer, experts down, training
 * steps across, each cell an expert's assignments over the mean in that column of steps (white
 * 0, blue 1 = balanced, red ≥ 2), as the MoE papers draw it.
 */
export function expertLoadSvg(h: ExpertLoadHistory, title: string): string {
  const layers = Object.entries(h.load);
  const cols = h.steps.length;
  const [left, top, cellH, width] = [90, 40, 14, 640];
  const cellW = width / Math.max(1, cols);
  const parts: string[] = [];
  let y = top;
  for (const [name, columns] of layers) {
    const experts = columns[0]?.length ?? 0;
    parts.push(`<text x="4" y="${y + 12}" font-size="11">${name}</text>`);
    for (let e = 0; e < experts; e++) {
      parts.push(
        `<text x="${left - 6}" y="${y + 16 + e * cellH + 10}" font-size="9" text-anchor="end">${e}</text>`,
      );
      for (let c = 0; c < cols; c++)
        parts.push(
          `<rect x="${(left + c * cellW).toFixed(2)}" y="${y + 16 + e * cellH}" width="${(cellW + 0.05).toFixed(2)}" height="${cellH}" fill="${loadColour(columns[c]?.[e] ?? 0)}"/>`,
        );
    }
    y += 16 + experts * cellH + 10;
  }
  const first = h.steps[0] ?? 0;
  const last = h.steps.at(-1) ?? 0;
  parts.push(
    `<text x="${left}" y="${y + 10}" font-size="10">step ${first}</text>`,
    `<text x="${left + width}" y="${y + 10}" font-size="10" text-anchor="end">step ${last}</text>`,
    `<text x="${left + width / 2}" y="${y + 10}" font-size="10" text-anchor="middle">training step → (rows: experts)</text>`,
  );
  const legendY = y + 22;
  for (let i = 0; i <= 40; i++)
    parts.push(
      `<rect x="${left + i * 5}" y="${legendY}" width="5" height="10" fill="${loadColour(i / 20)}"/>`,
    );
  parts.push(
    `<text x="${left + 210}" y="${legendY + 9}" font-size="10">load / mean: 0 (white), 1 (blue, balanced), ≥ 2 (red)</text>`,
  );
  const height = legendY + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 20}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="4" y="20" font-size="13">${escapeXml(title)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Text for SVG: &, <, > and quotes escaped. */
export function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}
