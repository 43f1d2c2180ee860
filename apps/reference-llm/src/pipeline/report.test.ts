import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { warmupCosine } from '@tessera/optim';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { writeAtomic } from '../atomic-write.js';
import { CHART, lossChartSvg } from '../report.js';
import { tempDir } from '../test-utils/fixtures.js';
import { imageInk } from '../test-utils/image-ink.js';
import { curvesSvg } from '../tuning/curves.js';
import type { StageRow } from './evaluation.js';
import {
  type PipelineReport,
  SAMPLE_QUESTIONS,
  stageSamples,
  writePipelineReport,
} from './report.js';

/** Debian's Chromium (`apt-get install chromium`); CI installs it, and there its absence fails the test. */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run'];
/** Where the screenshot goes: $TEST_ARTIFACTS, else test-artifacts/ in the app. */
const ARTIFACTS =
  process.env.TEST_ARTIFACTS ?? new URL('../../test-artifacts/', import.meta.url).pathname;
const present = existsSync(CHROMIUM);

const row = (stage: string, o: Partial<StageRow>): StageRow => ({
  stage,
  bitsPerByte: null,
  accuracy: null,
  format: null,
  preferenceAccuracy: null,
  sample: null,
  ...o,
});
const rows = [
  row('pretrain', {
    bitsPerByte: 2.6884,
    accuracy: 0,
    format: 0,
    sample: { question: 'Add 2 and 3', reply: 'the king' },
  }),
  // Stored by an older run, with the built-in 3-shot tasks the table no longer shows.
  row('sft', {
    bitsPerByte: 2.9,
    accuracy: 0.38,
    format: 0.89,
    arithmetic: 0.12,
    tasks: [
      { task: 'arithmetic', n: 10, numFewshot: 3, metrics: { score: 0.3 } },
      { task: 'knowledge-quiz', n: 10, numFewshot: 3, metrics: { acc: 0.2, acc_norm: 0.4 } },
    ],
    likelihoodPreferenceAccuracy: 0.625,
    sample: { question: 'Add 2 and 3', reply: '<b>5</b>\nAnswer: 5' },
  } as Partial<StageRow>),
  row('reward', { preferenceAccuracy: 0.85 }),
];

const questions = ['Add 2 and 3', 'Reverse the words: a b', 'What is 7 - 4?', 'Spell cat'];
/** Greedy replies of each stage to the held-out questions (the reward model has none). */
const answers = {
  pretrain: questions.map((question) => ({ question, reply: 'the king' })),
  sft: questions.map((question, i) => ({ question, reply: `Answer: ${i}` })),
  reward: [],
};

/** A pipeline folder whose stages hold the charts the stages draw. */
function pipelineFolder(): { out: string; report: PipelineReport } {
  const out = tempDir();
  const history = {
    trainLoss: Array.from({ length: 30 }, (_, i) => 6 - 0.1 * i),
    val: [{ step: 30, loss: 3.2 }],
  };
  const schedule = { adamw: warmupCosine({ lr: 3e-3, warmup: 3, total: 30 }) };
  for (const stage of ['pretrain', 'sft', 'reward']) {
    mkdirSync(join(out, stage));
    writeAtomic(join(out, stage, CHART), lossChartSvg(history, schedule));
  }
  writeAtomic(
    join(out, 'sft', 'curves.svg'),
    curvesSvg('sft', [
      {
        title: 'task accuracy',
        curves: [
          {
            name: 'held-out',
            points: [
              [0, 0],
              [30, 0.38],
            ],
          },
        ],
      },
    ]),
  );
  const report = {
    rows,
    samples: stageSamples(answers, { sft: 'pretrain', reward: 'sft' }),
    seconds: { pretrain: 478.2, sft: 772, reward: 123.4 },
    tokensPerSecond: { pretrain: 4927.4, sft: 3778 },
    config: { preset: 'tiny', stages: ['pretrain', 'sft', 'reward', 'eval'] },
  };
  writePipelineReport(out, report);
  return { out, report };
}

describe('writePipelineReport', () => {
  it('writes the rows, times and configuration to report.json, and a table with a row per stage to report.md', () => {
    const { out, report } = pipelineFolder();
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))).toEqual(report);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain(
      '| stage | validation bits/byte | task accuracy | format | multi-step arithmetic | preference accuracy (log-likelihood) | reward-model accuracy | training time | tokens/s |',
    );
    // A row measured before a column was added shows – there.
    expect(md).toContain('| pretrain | 2.688 | 0.0% | 0.0% | – | – | – | 478.2 s | 4,927 |');
    expect(md).toContain('| sft | 2.900 | 38.0% | 89.0% | 12.0% | 62.5% | – | 772.0 s | 3,778 |');
    expect(md).toContain('| reward | – | – | – | – | – | 85.0% | 123.4 s | – |');
    expect(md).not.toContain('runner quiz');
    // The note says how the task columns were measured.
    expect(md).toContain(
      "`@tessera/eval`'s benchmark runner, 0-shot, on greedy replies in the ChatML",
    );
    expect(md).toContain('Reward-model accuracy: the reward model');
    expect(md).toContain('![sft/curves.svg](sft/curves.svg)');
    // Only the charts a stage drew, under a link to its folder.
    expect(md).toContain('### [pretrain](pretrain/)');
    expect(md).toContain('![pretrain/loss.svg](pretrain/loss.svg)');
    expect(md).not.toContain('pretrain/curves.svg');
    expect(md).toContain('- **sft**: Add 2 and 3 → `<b>5</b> ↵ Answer: 5`');
  });

  it('shows the judge, its caveat, each comparison’s wins and biases, and every rationale in both orders', () => {
    const { out, report } = pipelineFolder();
    const winners: ('A' | 'B' | 'tie' | 'inconsistent')[] = ['A', 'B', 'A', 'inconsistent'];
    const judged = {
      ...report,
      judge: {
        judge: { url: 'http://127.0.0.1:8000', model: 'sft' },
        caveat: 'self-enhancement: the judge "sft" is this pipeline\'s sft model (runs/p/sft)',
        comparisons: [
          {
            stage: 'dpo',
            against: 'sft',
            report: {
              winners,
              positionDisagreement: 0.25,
              firstPositionRate: 0.5,
              longerWinRate: 2 / 3,
              lengthComparisons: 3,
              winRateA: 0.5,
              lengthControlledWinRateA: 0.4312,
              warnings: [
                'self-enhancement: the judge "sft" is also a candidate model; prefer an independent judge',
              ],
            },
            verdicts: [
              {
                question: 'Add 2 and 3',
                stageFirst: 'It is 5 <ok>.\nWINNER: 1',
                againstFirst: 'WINNER: 2',
              },
            ],
          },
          {
            stage: 'ppo',
            against: 'sft',
            report: { error: 'judge: expected a final line' },
            verdicts: [],
          },
        ],
      },
    };
    writePipelineReport(out, judged);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain(
      '## LLM judge: sft at http://127.0.0.1:8000\n\n**Caveat** — self-enhancement: the judge "sft" is this pipeline\'s sft model (runs/p/sft).\n\nEach question is judged in both orders',
    );
    // Every rationale, in both orders, under its comparison.
    expect(md).toContain(
      '  - Add 2 and 3\n    - dpo first: `It is 5 <ok>. ↵ WINNER: 1`\n    - sft first: `WINNER: 2`\n- ppo vs sft',
    );
    expect(md).toContain(
      '- dpo vs sft: dpo wins 2, sft wins 1, ties 0, the two orders disagree on 1 of 4; first-position rate 50.0%, longer answer wins 66.7% of 3, length-controlled win rate of dpo 43.1%; self-enhancement: the judge "sft" is also a candidate model; prefer an independent judge',
    );
    expect(md).toContain('- ppo vs sft: no verdict (judge: expected a final line)');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<pre>It is 5 &lt;ok&gt;.\nWINNER: 1</pre>');
    expect(html).toContain(
      '<p class="caveat"><b>Caveat</b> — self-enhancement: the judge &quot;sft&quot; is this pipeline&apos;s sft model (runs/p/sft).</p>',
    );
    // Without a caveat (an independent judge), none is shown.
    writePipelineReport(out, { ...judged, judge: { ...judged.judge, caveat: undefined } });
    expect(readFileSync(join(out, 'report.md'), 'utf8')).not.toContain('Caveat');
    expect(readFileSync(join(out, 'report.html'), 'utf8')).not.toContain('class="caveat"');
  });

  it('puts each stage’s replies next to those of the stage it started from, on the same questions', () => {
    expect(stageSamples(answers, { sft: 'pretrain', reward: 'sft' })).toEqual([
      {
        stage: 'sft',
        from: 'pretrain',
        items: questions
          .slice(0, SAMPLE_QUESTIONS)
          .map((question, i) => ({ question, before: 'the king', after: `Answer: ${i}` })),
      },
    ]);
    const shuffled = { ...answers, sft: [...answers.sft].reverse() };
    expect(() => stageSamples(shuffled, { sft: 'pretrain' })).toThrow(
      'pipeline report: sft and pretrain answered different held-out questions ("Spell cat")',
    );
    const { out } = pipelineFolder();
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Before and after each stage');
    expect(md).toContain('| question | before (pretrain) | after (sft) |');
    expect(md).toContain('| Add 2 and 3 | `the king` | `Answer: 0` |');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain(
      '<tr><td>What is 7 - 4?</td><td><code>the king</code></td><td><code>Answer: 2</code></td></tr>',
    );
  });
});

describe.runIf(present || process.env.CI === 'true')('report.html in headless Chromium', () => {
  it('shows the stage table and every stage’s charts, drawn, with no request outside the file', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    const { out } = pipelineFolder();
    const profile = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
    });
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const url = pathToFileURL(join(out, 'report.html')).href;
      await page.goto(url);
      const cells = await page
        .locator('#stages tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)),
        );
      expect(cells.map((c) => c.slice(0, 7))).toEqual([
        ['pretrain', '2.688', '0.0%', '0.0%', '–', '–', '–'],
        ['sft', '2.900', '38.0%', '89.0%', '12.0%', '62.5%', '–'],
        ['reward', '–', '–', '–', '–', '–', '85.0%'],
      ]);
      expect(await page.locator('#stage-sft code').textContent()).toBe('<b>5</b>\nAnswer: 5');
      expect(await page.locator('#samples-sft tbody tr').count()).toBe(SAMPLE_QUESTIONS);
      // Each chart drawn: the image decoded, and more than 0.2% of its pixels are not background
      // (an image that failed to decode leaves every pixel white).
      const charts = await page.locator('figure.chart img').evaluateAll(imageInk);
      expect(charts.map((c) => c.alt)).toEqual([
        'pretrain loss.svg',
        'sft loss.svg',
        'sft curves.svg',
        'reward loss.svg',
      ]);
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(100);
        expect(c.inked).toBeGreaterThan(0.002);
      }
      expect(requests.filter((r) => r !== url && !r.startsWith('data:'))).toEqual([]);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'pipeline-report.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
