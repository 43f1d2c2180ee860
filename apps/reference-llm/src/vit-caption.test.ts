import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { Captioner, captionOf } from './captioner.js';
import { digitPng, mnistDigit } from './digit-image.js';
import { loadCheckpoint } from './load.js';
import { digitBatch, readMnist } from './mnist.js';
import { pretrain } from './pretrain.js';
import { readCheckpoint } from './run-folder.js';
import { data, micro, tempDir } from './test-utils/fixtures.js';
import {
  captionBatch,
  captionDigit,
  captionFile,
  captionImages,
  captionLoss,
  loadCaptioner,
  vitCaption,
} from './vit-caption.js';
import { readVit } from './vit-checkpoint.js';
import { vitTrain } from './vit-train.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const quiet = { write: () => {} };
const digits = readMnist();

// A miniature ViT run and a miniature pretrained decoder to build captioners from.
const vitDir = tempDir();
await vitTrain({
  out: vitDir,
  model: { dModel: 16, layers: 1, heads: 2, ffnHidden: 32, patchSize: 14 }, // 4 image tokens
  steps: 2,
  batchSize: 8,
  baseline: false,
  device,
  sink: quiet,
});
const lmDir = tempDir();
await pretrain({ preset: micro, out: lmDir, steps: 2, data, device, sink: quiet });

const build = () => {
  const { vit } = readVit(vitDir, device);
  const { model, tokenizer } = loadCheckpoint(lmDir, device);
  model.train();
  return { captioner: new Captioner(vit, model), tokenizer, vit };
};

describe('captions', () => {
  it('a batch reads [image tokens] <|endoftext|> caption <|endoftext|>; only the text is a target', async () => {
    const { tokenizer } = build();
    const eos = tokenizer.specialTokens['<|endoftext|>']!;
    const b = captionBatch(digits, [0, 2], tokenizer, 4, device); // a seven and a one
    const [width] = b.ids.shape.slice(1) as [number];
    expect(b.targets.shape).toEqual([2, 4 + width]);
    const ids = Array.from(await b.ids.data());
    const targets = Array.from(await b.targets.data());
    const row = (a: number[], r: number, w: number) => a.slice(r * w, (r + 1) * w);
    const text = row(ids, 0, width);
    expect(tokenizer.decode(text.slice(1, text.lastIndexOf(eos)))).toBe(captionOf(7));
    const t0 = row(targets, 0, 4 + width);
    expect(t0.slice(0, 4).every((t) => t === -100)).toBe(true); // image positions predict nothing
    // Text position j predicts text token j + 1: the caption, then the closing eos.
    const n = text.lastIndexOf(eos);
    expect(t0.slice(4, 4 + n)).toEqual(text.slice(1, n + 1));
    expect(t0.slice(4 + n).every((t) => t === -100)).toBe(true);
    expect(tokenizer.decode(row(ids, 1, width).filter((id) => id !== eos))).toBe(captionOf(1));
  });

  it('learns to caption digits from their image tokens, one at a time and in a batch', async () => {
    // Four sevens and four ones: only the image tells the captions apart.
    const picks = [0, 2, 17, 5, 26, 14, 34, 29]; // labels 7, 1, 7, 1, 7, 1, 7, 1
    expect(picks.map((i) => digits.labels[i])).toEqual([7, 1, 7, 1, 7, 1, 7, 1]);
    const { captioner, tokenizer } = build();
    const { AdamW } = await import('@tessera/optim');
    const optimizer = new AdamW(captioner.parameters(), { lr: 3e-3 });
    for (let step = 0; step < 150; step++) {
      const b = captionBatch(digits, picks, tokenizer, 4, device);
      T.tidy(() => {
        optimizer.zeroGrad();
        captionLoss(captioner, b).backward();
        optimizer.step();
      });
    }
    captioner.eval();
    for (const i of picks)
      expect(await captionDigit(captioner, tokenizer, mnistDigit(digits, i))).toBe(
        captionOf(digits.labels[i]!),
      );
    // In a batch, greedily, the same captions; cut at a limit, the same first tokens.
    const { x, y } = digitBatch(digits, picks, device);
    expect(await captionImages(captioner, tokenizer, x)).toEqual(
      picks.map((i) => captionOf(digits.labels[i]!)),
    );
    const cut = await captionImages(captioner, tokenizer, x, 2);
    for (const [k, i] of picks.entries()) {
      const one = await captionDigit(captioner, tokenizer, mnistDigit(digits, i), {
        maxNewTokens: 2,
      });
      expect(cut[k]).toBe(one);
      expect(captionOf(digits.labels[i]!).startsWith(one) && one.length > 0).toBe(true);
    }
    x.dispose();
    y.dispose();
  });
});

describe('vit caption', () => {
  it('trains, reports caption accuracy, and saves a checkpoint that captions a PNG', async () => {
    const out = tempDir();
    const r = await vitCaption({
      out,
      vit: vitDir,
      lm: lmDir,
      steps: 20,
      batchSize: 8,
      evalEvery: 10,
      evalDigits: 5,
      finalDigits: 10,
      device,
      sink: quiet,
    });
    expect(r).toMatchObject({ steps: 20, digits: 10 });
    expect(r.history.val.map((v) => v.step)).toEqual([10, 20]);
    expect(r.history.trainLoss.at(-1)!).toBeLessThan(r.history.trainLoss[0]!);
    expect(readCheckpoint(out).state).toMatchObject({ stage: 'caption', step: 20 });
    // The saved model captions as the trained one did, from a PNG file.
    const png = join(tempDir('tessera-png-'), 'digit.png');
    writeFileSync(png, digitPng(mnistDigit(digits, 0)));
    const { captioner, tokenizer } = loadCaptioner(out, device);
    const want = await captionDigit(captioner, tokenizer, mnistDigit(digits, 0));
    const pieces: string[] = [];
    const got = await captionFile(out, png, { device, onText: (p) => pieces.push(p) });
    expect(got).toBe(want);
    expect(pieces.join('')).toBe(got);
    expect(() => loadCaptioner(vitDir, device)).toThrow(
      /field "stage" is "vit": not a checkpoint of vit caption/,
    );
  });

  it('stopped by SIGTERM, saves and captions only the evaluation digits', async () => {
    const out = tempDir();
    const stop: { reason?: 'SIGTERM' } = {};
    const r = await vitCaption({
      out,
      vit: vitDir,
      lm: lmDir,
      steps: 20,
      batchSize: 8,
      evalEvery: 2,
      evalDigits: 3,
      finalDigits: 10,
      device,
      stop,
      sink: {
        write: (t) => {
          if (t.startsWith('step 2/')) stop.reason = 'SIGTERM'; // after step 2's evaluation
        },
      },
    });
    expect(r).toMatchObject({ stopReason: 'SIGTERM', digits: 3 });
    expect(r.steps).toBeLessThan(20);
    expect(readCheckpoint(out).state).toMatchObject({ stage: 'caption', step: r.steps });
  });
});
