import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeXml } from '../expert-load.js';
import type { BenchmarkEvaluation } from '../rag/evaluate-retrieval.js';
import { CHART } from '../report.js';
import { DLLM_SAMPLE, EXTRA_STAGES, RAG_FIGURES } from './extra-stages.js';
import { stageState } from './stages.js';

/** The `moe` stage's headline: validation bits/byte beside the dense pretraining's, and the expert load. */
export interface MoEResult {
  stage: 'moe';
  preset: string;
  parameters: number;
  activeParameters: number;
  steps: number;
  /** Validation bits per byte at the last evaluation. */
  bitsPerByte: number | null;
  /** Each layer's max over experts of load / mean at the end (1 = balanced). */
  finalMaxLoad: Record<string, number>;
  /** The chain's dense pretraining (its parameters are all active), when it is complete. */
  dense: { preset: string; parameters: number; steps: number; bitsPerByte: number | null } | null;
}

/** The `dllm` stage's headline: its validation loss, the bits per byte it bounds, a sample. */
export interface DiffusionResult {
  stage: 'dllm';
  preset: string;
  steps: number;
  /** LLaDA's loss on the validation windows, nats per token. */
  loss: number | null;
  /** The bits per byte that loss bounds (the ELBO bound). */
  bitsPerByteBound: number | null;
  sample: { prompt: string; text: string };
}

/** The `vit` stage's headline: held-out accuracy of the ViT and of the MLP baseline. */
export interface VitResult {
  stage: 'vit';
  steps: number;
  /** On the 2,000 held-out MNIST digits, in [0, 1]. */
  accuracy: number;
  mlpAccuracy: number | null;
}

/** The `rag` stage's headline: `rag eval`'s figures of every method on the test split. */
export interface RagResult {
  stage: 'rag';
  figures: BenchmarkEvaluation;
}

/** An optional stage whose folder is absent or incomplete, and the command that produces it. */
export interface MissingResult {
  stage: string;
  state: 'empty' | 'partial';
  how: string;
}

/** One optional stage in the report: its headline figures, or how to produce them. */
export type ExtraResult = MoEResult | DiffusionResult | VitResult | RagResult | MissingResult;

/** The pictures each optional stage draws in its folder, shown under its results. */
export const EXTRA_CHARTS: Record<string, readonly string[]> = {
  moe: ['expert-load.svg', 'routing.svg'],
  dllm: [CHART],
  vit: ['accuracy.svg', 'confusion.svg'],
  rag: [],
};

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const lastBpb = (report: { validation?: { bpb?: number } }) => report.validation?.bpb ?? null;

function readMoE(out: string): MoEResult {
  const r = readJson(join(out, 'moe', 'report.json'));
  const dense =
    stageState(join(out, 'pretrain')) === 'complete'
      ? readJson(join(out, 'pretrain', 'report.json'))
      : undefined;
  return {
    stage: 'moe',
    preset: r.preset,
    parameters: r.parameters,
    // A dense model in the folder (pretrain without --moe) has every parameter active and no load.
    activeParameters: r.activeParameters ?? r.parameters,
    steps: r.steps,
    bitsPerByte: lastBpb(r),
    finalMaxLoad: r.finalMaxLoad ?? {},
    dense: dense
      ? {
          preset: dense.preset,
          parameters: dense.parameters,
          steps: dense.steps,
          bitsPerByte: lastBpb(dense),
        }
      : null,
  };
}

function readDiffusion(out: string): DiffusionResult {
  const r = readJson(join(out, 'dllm', 'report.json'));
  const { prompt, text } = readJson(join(out, 'dllm', DLLM_SAMPLE));
  return {
    stage: 'dllm',
    preset: r.preset,
    steps: r.steps,
    loss: r.validation?.loss ?? null,
    bitsPerByteBound: lastBpb(r),
    sample: { prompt, text },
  };
}

function readVit(out: string): VitResult {
  const r = readJson(join(out, 'vit', 'report.json'));
  return {
    stage: 'vit',
    steps: r.vit.steps,
    accuracy: r.vit.test.accuracy,
    mlpAccuracy: r.mlp?.test.accuracy ?? null,
  };
}

const READERS: Record<string, (out: string) => ExtraResult> = {
  moe: readMoE,
  dllm: readDiffusion,
  vit: readVit,
  rag: (out) => ({ stage: 'rag', figures: readJson(join(out, 'rag', RAG_FIGURES)) }),
};

/**
 * The optional stages' results in the pipeline folder `out`, in `EXTRA_STAGES` order: the
 * headline figures of each whose folder is complete, and for each other the `--stages` value or
 * single command that produces it (or, for an incomplete folder, that resumes it).
 */
export function readExtras(out: string): ExtraResult[] {
  return EXTRA_STAGES.map((stage) => {
    const state = stage.state(join(out, stage.name));
    if (state === 'complete') return READERS[stage.name]!(out);
    const pipeline = `reference-llm pipeline --stages ${stage.name},eval --out ${out}`;
    const command = stage.command.replaceAll('OUT', out);
    return {
      stage: stage.name,
      state,
      how:
        state === 'empty'
          ? `not run: \`${pipeline}\` adds it (the same as \`${command}\`)`
          : `incomplete: \`${pipeline}\` continues it, ${stage.resume}`,
    };
  });
}

/** A results block, rendered as Markdown or HTML. */
interface Block {
  stage: string;
  title: string;
  lines: string[];
  table?: { head: string[]; rows: string[][] };
}

const fixed = (x: number | null, digits = 3) => (x === null ? '–' : x.toFixed(digits));
const percent = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
const count = (x: number) => x.toLocaleString('en-US');
const oneLine = (text: string) => text.replaceAll('\n', ' ↵ ');

function block(r: ExtraResult): Block {
  if ('state' in r) return { stage: r.stage, title: r.stage, lines: [r.how] };
  switch (r.stage) {
    case 'moe': {
      const rows = [
        ...(r.dense
          ? [
              [
                `dense: ${r.dense.preset} (pretrain)`,
                count(r.dense.parameters),
                count(r.dense.parameters),
                count(r.dense.steps),
                fixed(r.dense.bitsPerByte),
              ],
            ]
          : []),
        [
          `mixture of experts: ${r.preset}`,
          count(r.parameters),
          count(r.activeParameters),
          count(r.steps),
          fixed(r.bitsPerByte),
        ],
      ];
      const loads = Object.values(r.finalMaxLoad)
        .map((x) => x.toFixed(2))
        .join(', ');
      const load = loads
        ? `Expert load at the end, the busiest expert's load over the mean, per layer (1 = balanced): ${loads}.`
        : 'No expert load: the model in this folder has no mixture of experts.';
      return {
        stage: 'moe',
        title: 'moe: the same preset with a mixture of experts',
        table: {
          head: ['model', 'parameters', 'active per token', 'steps', 'validation bits/byte'],
          rows,
        },
        lines: [
          ...(r.dense
            ? []
            : ['The dense pretraining is not complete in this folder: nothing to compare with.']),
          load,
        ],
      };
    }
    case 'dllm':
      return {
        stage: 'dllm',
        title: 'dllm: a masked diffusion LM on the same preset',
        lines: [
          `${r.preset}, ${count(r.steps)} steps: validation loss ${fixed(r.loss, 4)} nats/token, ≤ ${fixed(r.bitsPerByteBound)} bits per byte (the ELBO bound).`,
          `Sample (greedy denoising): \`${oneLine(r.sample.prompt)}\` → \`${oneLine(r.sample.text)}\``,
        ],
      };
    case 'vit':
      return {
        stage: 'vit',
        title: 'vit: a ViT on MNIST',
        lines: [
          `Held-out accuracy on the 2,000 test digits after ${count(r.steps)} steps: ViT ${percent(r.accuracy)}${r.mlpAccuracy === null ? '' : `, MLP baseline ${percent(r.mlpAccuracy)} (same steps and batches)`}.`,
        ],
      };
    case 'rag': {
      const f = r.figures;
      return {
        stage: 'rag',
        title: 'rag: retrieval on the benchmark from the plays',
        table: {
          head: ['method', 'nDCG@10', 'Recall@10', 'MRR'],
          rows: f.rows.map((m) => [
            m.method,
            fixed(m['nDCG@10'], 4),
            fixed(m['Recall@10'], 4),
            fixed(m.MRR, 4),
          ]),
        },
        lines: [
          `${count(f.questions)} ${f.split} questions over ${count(f.passages)} passages; the dense weight of weighted fusion, ${f.tuned.denseWeight}, and the method of rag query and agent, ${f.tuned.method}, chosen on the ${count(f.tuned.questions)} ${f.tuned.split} questions.`,
        ],
      };
    }
  }
}

const charts = (out: string, stage: string) =>
  (EXTRA_CHARTS[stage] ?? []).filter((file) => existsSync(join(out, stage, file)));

const INTRO =
  'The optional stages (`--stages` with moe, dllm, vit or rag): each one where its folder under the pipeline folder is complete, else the command that produces it.';

/** The "Beyond the chain" section of `report.md`: each optional stage's results, tables and pictures (linked). */
export function extrasMarkdown(out: string, results: readonly ExtraResult[]): string {
  const parts = results.map(block).map((b) => {
    const table = b.table
      ? [
          `| ${b.table.head.join(' | ')} |`,
          `|${b.table.head.map(() => '---').join('|')}|`,
          ...b.table.rows.map((row) => `| ${row.join(' | ')} |`),
        ].join('\n')
      : '';
    const pictures = charts(out, b.stage).map(
      (file) => `![${b.stage}/${file}](${b.stage}/${file})`,
    );
    return [`### ${b.title}`, table, ...b.lines, ...pictures].filter(Boolean).join('\n\n');
  });
  return `## Beyond the chain\n\n${INTRO}\n\n${parts.join('\n\n')}\n`;
}

/** The same section for `report.html`, each picture inlined as a data URL. */
export function extrasHtml(out: string, results: readonly ExtraResult[]): string {
  const code = (text: string) =>
    escapeXml(text).replace(/`([^`]*)`/g, (_, inner: string) => `<code>${inner}</code>`);
  const parts = results.map(block).map((b) => {
    const table = b.table
      ? `<table class="extra"><thead><tr>${b.table.head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${b.table.rows.map((row) => `<tr>${row.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`
      : '';
    const pictures = charts(out, b.stage)
      .map(
        (file) =>
          `<figure class="chart"><img alt="${b.stage} ${file}" src="data:image/svg+xml;base64,${readFileSync(join(out, b.stage, file)).toString('base64')}"></figure>`,
      )
      .join('\n');
    return `<section id="extra-${b.stage}"><h3>${escapeXml(b.title)}</h3>${table}${b.lines.map((l) => `<p>${code(l)}</p>`).join('')}\n${pictures}</section>`;
  });
  return `<section id="extras"><h2>Beyond the chain</h2><p>${code(INTRO)}</p>\n${parts.join('\n')}</section>`;
}
