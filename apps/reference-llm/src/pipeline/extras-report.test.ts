import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  browserTestsEnabled,
  CHROMIUM,
  launchChromium,
  NO_WEBGPU_ARGS,
} from '@tessera/browser-testing';
import { warmupCosine } from '@tessera/optim';
import { describe, expect, it } from 'vitest';
import { expertLoadSvg } from '../expert-load.js';
import { lossChartSvg } from '../report.js';
import { routingSvg } from '../routing-picture.js';
import { writeCheckpoint } from '../run-folder.js';
import { tempDir } from '../test-utils/fixtures.js';
import { imageInk } from '../test-utils/image-ink.js';
import { accuracyChartSvg, confusionMatrixSvg } from '../vit-pictures.js';
import { DLLM_SAMPLE, RAG_FIGURES, RAG_FOLDERS } from './extra-stages.js';
import { extrasHtml, extrasMarkdown, readExtras } from './extras-report.js';

/** A run folder at `step` of `totalSteps`, with `report` as its report.json (none if undefined). */
function runFolder(dir: string, step: number, totalSteps: number, report?: object): void {
  writeCheckpoint(dir, { 'model.safetensors': 'weights' }, { stage: 'test', step, totalSteps });
  if (report) writeFileSync(join(dir, 'report.json'), JSON.stringify(report));
}
/** A training history of 30 steps with two evaluations, for the charts the stages draw. */
const history = {
  trainLoss: Array.from({ length: 30 }, (_, i) => 6 - 0.1 * i),
  val: [
    { step: 15, loss: 4.6, accuracy: 0.6 },
    { step: 30, loss: 3.2, accuracy: 0.9 },
  ],
};
const schedules = { adamw: warmupCosine({ lr: 3e-3, warmup: 3, total: 30 }) };

const rag = {
  split: 'test',
  questions: 200,
  passages: 1000,
  tuned: {
    method: 'hybrid-weighted',
    denseWeight: 0.4,
    split: 'dev',
    questions: 100,
    weights: [{ weight: 0.4, ndcg: 0.532 }],
    methods: { bm25: 0.501, 'hybrid-weighted': 0.532 },
  },
  rows: [
    { method: 'bm25', 'nDCG@10': 0.4982, 'Recall@10': 0.52, MRR: 0.4919 },
    { method: 'dense', 'nDCG@10': 0.28834, 'Recall@10': 0.42, MRR: 0.259 },
  ],
};

/** A pipeline folder whose four optional stages (and the dense pretraining) are complete. */
function completeFolder(): string {
  const out = tempDir();
  runFolder(join(out, 'pretrain'), 678, 678, {
    preset: 'tiny',
    parameters: 69360,
    steps: 678,
    validation: { step: 678, loss: 1.9, bpb: 2.6884 },
  });
  runFolder(join(out, 'moe'), 685, 685, {
    preset: 'tiny-moe8x2-auxfree',
    parameters: 180720,
    activeParameters: 70128,
    steps: 685,
    validation: { step: 685, loss: 1.91, bpb: 2.7012 },
    finalMaxLoad: { 'model.layers.0.mlp': 1.0213, 'model.layers.1.mlp': 1.0349 },
  });
  const load = [0, 1].map((l) => [
    `model.layers.${l}.mlp`,
    Array.from({ length: 10 }, (_, i) => [2 - i / 10, i / 10, 1, 1]),
  ]);
  writeFileSync(
    join(out, 'moe', 'expert-load.svg'),
    expertLoadSvg(
      { steps: Array.from({ length: 10 }, (_, i) => i + 1), load: Object.fromEntries(load) },
      'expert load',
    ),
  );
  const routing = {
    tokens: ['RO', 'MEO', ':'],
    experts: {
      'model.layers.0.mlp': [
        [0, 1],
        [2, 3],
        [1, 2],
      ],
    },
  };
  writeFileSync(join(out, 'moe', 'routing.svg'), routingSvg(routing, 4, 'routing'));
  runFolder(join(out, 'dllm'), 678, 678, {
    preset: 'tiny',
    steps: 678,
    validation: { step: 678, loss: 4.4321, bpb: 3.9243 },
  });
  writeFileSync(
    join(out, 'dllm', DLLM_SAMPLE),
    JSON.stringify({ prompt: 'ROMEO:', text: ' the <king>\nand', forwardPasses: 32 }),
  );
  writeFileSync(join(out, 'dllm', 'loss.svg'), lossChartSvg(history, schedules));
  runFolder(join(out, 'vit'), 200, 200, {
    vit: { steps: 200, test: { accuracy: 0.9125, loss: 0.3 } },
    mlp: { steps: 200, test: { accuracy: 0.9345, loss: 0.2 } },
  });
  const confusion = Array.from({ length: 10 }, (_, t) =>
    Array.from({ length: 10 }, (_, p) => (t === p ? 180 : 2)),
  );
  writeFileSync(join(out, 'vit', 'confusion.svg'), confusionMatrixSvg(confusion));
  writeFileSync(join(out, 'vit', 'accuracy.svg'), accuracyChartSvg({ ViT: history }));
  mkdirSync(join(out, 'rag', RAG_FOLDERS.bench), { recursive: true });
  writeFileSync(join(out, 'rag', RAG_FIGURES), JSON.stringify(rag));
  return out;
}

describe('readExtras', () => {
  it('says for each absent optional stage which --stages value and which command produce it', () => {
    const out = tempDir();
    const extras = readExtras(out);
    expect(extras.map((e) => [e.stage, 'state' in e && e.state])).toEqual([
      ['moe', 'empty'],
      ['dllm', 'empty'],
      ['vit', 'empty'],
      ['rag', 'empty'],
    ]);
    expect(extras[0]).toEqual({
      stage: 'moe',
      state: 'empty',
      how: `not run: \`reference-llm pipeline --stages moe,eval --out ${out}\` adds it (the same as \`reference-llm pretrain --moe 8x2 --balance aux-free --out ${out}/moe\`)`,
    });
    const md = extrasMarkdown(out, extras);
    expect(md).toMatch(/^## Beyond the chain\n/);
    for (const stage of ['moe', 'dllm', 'vit', 'rag'])
      expect(md).toContain(`\`reference-llm pipeline --stages ${stage},eval --out ${out}\``);
    expect(extrasHtml(out, extras)).toContain(
      `<code>reference-llm pipeline --stages vit,eval --out ${out}</code>`,
    );
  });

  it('says how an incomplete folder continues', () => {
    const out = tempDir();
    runFolder(join(out, 'dllm'), 1, 4);
    mkdirSync(join(out, 'rag', RAG_FOLDERS.bench), { recursive: true });
    const [, dllm, , ragResult] = readExtras(out);
    expect(dllm).toEqual({
      stage: 'dllm',
      state: 'partial',
      how: `incomplete: \`reference-llm pipeline --stages dllm,eval --out ${out}\` continues it, from its last checkpoint`,
    });
    expect(ragResult).toMatchObject({ stage: 'rag', state: 'partial' });
    expect((ragResult as { how: string }).how).toContain('encoder training itself starts over');
  });

  it('reads the headline figures of complete folders', () => {
    const out = completeFolder();
    expect(readExtras(out)).toEqual([
      {
        stage: 'moe',
        preset: 'tiny-moe8x2-auxfree',
        parameters: 180720,
        activeParameters: 70128,
        steps: 685,
        bitsPerByte: 2.7012,
        finalMaxLoad: { 'model.layers.0.mlp': 1.0213, 'model.layers.1.mlp': 1.0349 },
        dense: { preset: 'tiny', parameters: 69360, steps: 678, bitsPerByte: 2.6884 },
      },
      {
        stage: 'dllm',
        preset: 'tiny',
        steps: 678,
        loss: 4.4321,
        bitsPerByteBound: 3.9243,
        sample: { prompt: 'ROMEO:', text: ' the <king>\nand' },
      },
      { stage: 'vit', steps: 200, accuracy: 0.9125, mlpAccuracy: 0.9345 },
      { stage: 'rag', figures: rag },
    ]);
  });
});

describe('the "Beyond the chain" section', () => {
  it('shows a dense model found in the moe folder as having no expert load', () => {
    const out = tempDir();
    runFolder(join(out, 'moe'), 2, 2, { preset: 'tiny', parameters: 69360, steps: 2 });
    const [moe] = readExtras(out);
    expect(moe).toMatchObject({ activeParameters: 69360, finalMaxLoad: {}, bitsPerByte: null });
    expect(extrasMarkdown(out, [moe!])).toContain(
      'No expert load: the model in this folder has no mixture of experts.',
    );
  });

  it('renders each stage’s figures in Markdown, linking its pictures', () => {
    const out = completeFolder();
    const md = extrasMarkdown(out, readExtras(out));
    expect(md).toContain('| dense: tiny (pretrain) | 69,360 | 69,360 | 678 | 2.688 |');
    expect(md).toContain(
      '| mixture of experts: tiny-moe8x2-auxfree | 180,720 | 70,128 | 685 | 2.701 |',
    );
    expect(md).toContain('per layer (1 = balanced): 1.02, 1.03.');
    expect(md).toContain(
      'tiny, 678 steps: validation loss 4.4321 nats/token, ≤ 3.924 bits per byte (the ELBO bound).',
    );
    expect(md).toContain('`ROMEO:` → ` the <king> ↵ and`');
    expect(md).toContain('after 200 steps: ViT 91.3%, MLP baseline 93.5% (same steps and batches)');
    expect(md).toContain('| bm25 | 0.4982 | 0.5200 | 0.4919 |');
    expect(md).toContain('| dense | 0.2883 | 0.4200 | 0.2590 |');
    expect(md).toContain(
      'the dense weight of weighted fusion, 0.4, and the method of rag query and agent, hybrid-weighted, chosen on the 100 dev questions',
    );
    for (const p of [
      'moe/expert-load.svg',
      'moe/routing.svg',
      'dllm/loss.svg',
      'vit/accuracy.svg',
      'vit/confusion.svg',
    ])
      expect(md).toContain(`![${p}](${p})`);
  });

  it('inlines each stage’s pictures in HTML as data URLs, and escapes the text', () => {
    const out = completeFolder();
    const html = extrasHtml(out, readExtras(out));
    const images = [
      ...html.matchAll(
        /<img alt="(\w+) ([\w-]+\.svg)" src="data:image\/svg\+xml;base64,([^"]+)">/g,
      ),
    ];
    expect(images.map((m) => `${m[1]}/${m[2]}`)).toEqual([
      'moe/expert-load.svg',
      'moe/routing.svg',
      'dllm/loss.svg',
      'vit/accuracy.svg',
      'vit/confusion.svg',
    ]);
    for (const [, stage, file, data] of images)
      expect(Buffer.from(data!, 'base64').toString()).toBe(
        readFileSync(join(out, stage!, file!), 'utf8'),
      );
    expect(html).toContain('<tr><td>bm25</td><td>0.4982</td><td>0.5200</td><td>0.4919</td></tr>');
    expect(html).toContain('<code>ROMEO:</code> → <code> the &lt;king&gt; ↵ and</code>');
    expect(html).not.toMatch(/src="(?!data:)/); // nothing fetched: self-contained
  });
});

describe.runIf(browserTestsEnabled())('the section in headless Chromium', () => {
  it('draws every inlined picture and fetches nothing', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    const out = completeFolder();
    const page = join(out, 'extras.html');
    writeFileSync(
      page,
      `<!doctype html><html><body>${extrasHtml(out, readExtras(out))}</body></html>`,
    );
    const browser = await launchChromium(NO_WEBGPU_ARGS);
    try {
      const tab = await browser.newPage();
      const requests: string[] = [];
      tab.on('request', (r) => requests.push(r.url()));
      const url = pathToFileURL(page).href;
      await tab.goto(url);
      // Each picture decoded and drawn: more than 0.2% of its pixels are not background.
      const drawn = await tab.locator('#extras img').evaluateAll(imageInk);
      expect(drawn.map((d) => d.alt)).toEqual([
        'moe expert-load.svg',
        'moe routing.svg',
        'dllm loss.svg',
        'vit accuracy.svg',
        'vit confusion.svg',
      ]);
      for (const d of drawn) {
        expect(d.width, d.alt).toBeGreaterThan(100);
        expect(d.inked, d.alt).toBeGreaterThan(0.002);
      }
      expect(await tab.locator('#extra-rag tbody tr').count()).toBe(2);
      expect(requests.filter((r) => r !== url && !r.startsWith('data:'))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
