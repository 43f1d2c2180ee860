import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeAtomic } from '../atomic-write.js';
import { escapeXml } from '../expert-load.js';
import { CHART } from '../report.js';
import type { StageAnswer, StageRow } from './evaluation.js';
import type { JudgeSection, StageComparison } from './judge.js';

/** What the pipeline's report shows. */
export interface PipelineReport {
  /** One row per finished stage, in pipeline order. */
  rows: StageRow[];
  /** Seconds each stage trained (summed over resumed runs), by stage. */
  seconds: Record<string, number>;
  /** Training throughput of each stage (tokens/s, from its own report), by stage. */
  tokensPerSecond?: Record<string, number>;
  /** The run's configuration: preset, stages, steps, data, device. */
  config: Record<string, unknown>;
  /** The LLM judge's pairwise comparisons, when a judge was given. */
  judge?: JudgeSection;
  /** Greedy replies to the same held-out questions before and after each tuning stage. */
  samples?: StageSamples[];
}

/** A stage's greedy replies next to those of the model it started from, on the same questions. */
export interface StageSamples {
  stage: string;
  /** The stage whose checkpoint it started from. */
  from: string;
  items: { question: string; before: string; after: string }[];
}

/** Held-out questions the report shows before and after each stage. */
export const SAMPLE_QUESTIONS = 3;

/**
 * Each stage's replies to the first `SAMPLE_QUESTIONS` held-out questions next to the replies of
 * `from[stage]`, the stage it started from — where both answered (the reward model does not).
 *
 * @throws Error - the two stages' replies are to different questions (they must share the split)
 */
export function stageSamples(
  answers: Record<string, StageAnswer[]>,
  from: Record<string, string>,
): StageSamples[] {
  const samples: StageSamples[] = [];
  for (const [stage, after] of Object.entries(answers)) {
    const source = from[stage];
    const before = source === undefined ? [] : (answers[source] ?? []);
    if (after.length === 0 || before.length === 0) continue;
    const items = after.slice(0, SAMPLE_QUESTIONS).map((a, i) => {
      if (before[i]?.question !== a.question)
        throw new Error(
          `pipeline report: ${stage} and ${source} answered different held-out questions (${JSON.stringify(a.question)})`,
        );
      return { question: a.question, before: before[i]!.reply, after: a.reply };
    });
    samples.push({ stage, from: source!, items });
  }
  return samples;
}

/** The charts each stage wrote into its folder (`loss.svg`, and a tuning stage's `curves.svg`). */
const STAGE_CHARTS = [CHART, 'curves.svg'] as const;

const percent = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
const fixed = (x: number | null) => (x === null ? '–' : x.toFixed(3));
const seconds = (s: number | undefined) => (s === undefined ? '–' : `${s.toFixed(1)} s`);
const rate = (x: number | undefined) =>
  x === undefined ? '–' : Math.round(x).toLocaleString('en-US');

/** One comparison in a sentence: wins both orders agree on, and the bias figures. */
export function comparisonLine(c: StageComparison): string {
  const r = c.report;
  if ('error' in r) return `${c.stage} vs ${c.against}: no verdict (${r.error})`;
  const count = (w: string) => r.winners.filter((x) => x === w).length;
  return `${c.stage} vs ${c.against}: ${c.stage} wins ${count('A')}, ${c.against} wins ${count('B')}, ties ${count('tie')}, the two orders disagree on ${count('inconsistent')} of ${r.winners.length}; first-position rate ${percent(r.firstPositionRate)}, longer answer wins ${percent(r.longerWinRate)} of ${r.lengthComparisons}, length-controlled win rate of ${c.stage} ${percent(r.lengthControlledWinRateA)}${r.warnings.map((w) => `; ${w}`).join('')}`;
}

const JUDGE_NOTE =
  'Each question is judged in both orders (rationale before verdict); a winner counts only where the orders agree. The first-position rate and how often the longer answer wins show position and verbosity bias; the length-controlled win rate (after AlpacaEval 2.0) is the win rate with the length difference regressed out.';

/** The judge's section of `report.md`: the judge, its caveat, each comparison and every rationale in both orders. */
function judgeMarkdown(j: JudgeSection): string {
  const quote = (text: string) => `\`${text.replaceAll('\n', ' ↵ ')}\``;
  const comparisons = j.comparisons.map((c) =>
    [
      `- ${comparisonLine(c)}`,
      ...c.verdicts.flatMap((v) => [
        `  - ${v.question.replaceAll('\n', ' ')}`,
        `    - ${c.stage} first: ${quote(v.stageFirst)}`,
        `    - ${c.against} first: ${quote(v.againstFirst)}`,
      ]),
    ].join('\n'),
  );
  const caveat = j.caveat ? `**Caveat** — ${j.caveat}.\n\n` : '';
  return `## LLM judge: ${j.judge.model} at ${j.judge.url}\n\n${caveat}${JUDGE_NOTE}\n\n${comparisons.join('\n')}`;
}

/** The judge's section of `report.html`: the judge, its caveat, each comparison, every rationale in both orders. */
function judgeHtml(j: JudgeSection): string {
  const caveat = j.caveat ? `<p class="caveat"><b>Caveat</b> — ${escapeXml(j.caveat)}.</p>` : '';
  return `<h2>LLM judge: ${escapeXml(j.judge.model)} at ${escapeXml(j.judge.url)}</h2>${caveat}<p>${JUDGE_NOTE}</p>${j.comparisons
    .map(
      (c) =>
        `<section class="judged"><p>${escapeXml(comparisonLine(c))}</p>${c.verdicts
          .map(
            (v) =>
              `<details><summary>${escapeXml(v.question)}</summary><p><b>${c.stage} first</b></p><pre>${escapeXml(v.stageFirst)}</pre><p><b>${c.against} first</b></p><pre>${escapeXml(v.againstFirst)}</pre></details>`,
          )
          .join('')}</section>`,
    )
    .join('\n')}`;
}

const SAMPLES_NOTE =
  'Greedy replies to the same held-out questions by the model a stage started from (before) and by the stage (after).';

/** What the table's columns measure, under it. */
const TABLE_NOTE =
  "Task accuracy, format and multi-step arithmetic: `@tessera/eval`'s benchmark runner, 0-shot, on greedy replies in the ChatML the tuned stages were trained on (the pretrained model with the chat tokens added) — task accuracy and format compliance on the held-out instruction questions, accuracy on GRPO's held-out multi-step arithmetic. Preference accuracy (log-likelihood): the share of the held-out preference pairs where the model gives the chosen reply a higher mean per-token log-likelihood than the rejected one, given the prompt. Reward-model accuracy: the reward model's own, on the same pairs (it scores the chosen reply higher).";

/** The table's columns: heading and cell of a row. */
function columns(r: PipelineReport): [string, (row: StageRow) => string][] {
  return [
    ['stage', (row) => row.stage],
    ['validation bits/byte', (row) => fixed(row.bitsPerByte)],
    ['task accuracy', (row) => percent(row.accuracy)],
    ['format', (row) => percent(row.format)],
    ['multi-step arithmetic', (row) => percent(row.arithmetic ?? null)],
    [
      'preference accuracy (log-likelihood)',
      (row) => percent(row.likelihoodPreferenceAccuracy ?? null),
    ],
    ['reward-model accuracy', (row) => percent(row.preferenceAccuracy)],
    ['training time', (row) => seconds(r.seconds[row.stage])],
    ['tokens/s', (row) => rate(r.tokensPerSecond?.[row.stage])],
  ];
}

function markdown(out: string, r: PipelineReport): string {
  const cols = columns(r);
  const table = [
    `| ${cols.map(([h]) => h).join(' | ')} |`,
    `|${cols.map(() => '---').join('|')}|`,
    ...r.rows.map((row) => `| ${cols.map(([, cell]) => cell(row)).join(' | ')} |`),
  ].join('\n');
  const samples = r.rows
    .filter((row) => row.sample)
    .map(
      (row) =>
        `- **${row.stage}**: ${row.sample!.question} → \`${row.sample!.reply.replaceAll('\n', ' ↵ ')}\``,
    )
    .join('\n');
  const config = Object.entries(r.config)
    .map(([k, v]) => `- ${k}: ${JSON.stringify(v)}`)
    .join('\n');
  // Each stage's folder, then the charts it has (pretraining draws no tuning curves).
  const charts = r.rows
    .flatMap((row) => [
      `### [${row.stage}](${row.stage}/)`,
      ...STAGE_CHARTS.map((file) => `${row.stage}/${file}`)
        .filter((p) => existsSync(join(out, p)))
        .map((p) => `![${p}](${p})`),
    ])
    .join('\n\n');
  const judge = r.judge ? `\n\n${judgeMarkdown(r.judge)}` : '';
  const oneLine = (text: string) => `\`${text.replaceAll('\n', ' ↵ ')}\``;
  const beforeAfter = (r.samples ?? [])
    .map(
      (s) =>
        `### ${s.stage} (from ${s.from})\n\n| question | before (${s.from}) | after (${s.stage}) |\n|---|---|---|\n${s.items.map((i) => `| ${i.question.replaceAll('\n', ' ')} | ${oneLine(i.before)} | ${oneLine(i.after)} |`).join('\n')}`,
    )
    .join('\n\n');
  const beforeAfterSection = beforeAfter
    ? `\n\n## Before and after each stage\n\n${SAMPLES_NOTE}\n\n${beforeAfter}`
    : '';
  return `# reference-llm pipeline\n\n${table}${judge}\n\n${TABLE_NOTE}\n\n## Samples\n\n${samples}${beforeAfterSection}\n\n## Configuration\n\n${config}\n\n## Curves\n\n${charts}\n`;
}

function html(out: string, r: PipelineReport): string {
  const cols = columns(r);
  const head = cols.map(([h]) => `<th>${escapeXml(h)}</th>`).join('');
  const body = r.rows
    .map((row) => `<tr>${cols.map(([, cell]) => `<td>${escapeXml(cell(row))}</td>`).join('')}</tr>`)
    .join('\n');
  const stages = r.rows
    .map((row) => {
      const charts = STAGE_CHARTS.map((file) => join(out, row.stage, file))
        .filter((path) => existsSync(path))
        .map(
          (path) =>
            `<figure class="chart"><img alt="${row.stage} ${basename(path)}" src="data:image/svg+xml;base64,${readFileSync(path).toString('base64')}"></figure>`,
        )
        .join('\n');
      const sample = row.sample
        ? `<p class="sample"><b>${escapeXml(row.sample.question)}</b><br><code>${escapeXml(row.sample.reply)}</code></p>`
        : '';
      return `<section id="stage-${row.stage}"><h2>${row.stage}</h2><p><a href="${row.stage}/">checkpoint and report: ${row.stage}/</a> · trained ${seconds(r.seconds[row.stage])}</p>${sample}\n${charts}</section>`;
    })
    .join('\n');
  const config = Object.entries(r.config)
    .map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(JSON.stringify(v))}</td></tr>`)
    .join('');
  const judge = r.judge ? judgeHtml(r.judge) : '';
  const beforeAfter = (r.samples ?? [])
    .map(
      (s) =>
        `<table class="samples" id="samples-${s.stage}"><caption>${s.stage} (from ${s.from})</caption><thead><tr><th>question</th><th>before (${s.from})</th><th>after (${s.stage})</th></tr></thead><tbody>${s.items
          .map(
            (i) =>
              `<tr><td>${escapeXml(i.question)}</td><td><code>${escapeXml(i.before)}</code></td><td><code>${escapeXml(i.after)}</code></td></tr>`,
          )
          .join('')}</tbody></table>`,
    )
    .join('\n');
  const samplesSection = beforeAfter
    ? `<h2>Before and after each stage</h2><p>${SAMPLES_NOTE}</p>${beforeAfter}`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>reference-llm pipeline</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}table.samples{margin:1em 0}caption{text-align:left;font-weight:bold}figure.chart{margin:1em 0}figure.chart img{max-width:100%}code{white-space:pre-wrap}</style>
</head><body>
<h1>reference-llm pipeline</h1>
<table id="stages"><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table>
<p>${escapeXml(TABLE_NOTE)}</p>
<h2>Configuration</h2><table id="config">${config}</table>
${samplesSection}
${judge}
${stages}
</body></html>
`;
}

/**
 * Writes the pipeline's report into `out`: `report.json` (the rows, times and configuration),
 * `report.md` (the table, samples, replies before and after each stage, configuration, links to
 * each stage's charts) and
 * `report.html`, one self-contained page (no network: each stage's SVG charts inlined as data
 * URLs, so that the charts' element ids cannot collide).
 */
export function writePipelineReport(out: string, r: PipelineReport): void {
  writeAtomic(join(out, 'report.json'), `${JSON.stringify(r, null, 1)}\n`);
  writeAtomic(join(out, 'report.md'), markdown(out, r));
  writeAtomic(join(out, 'report.html'), html(out, r));
}
