import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-utils/fixtures.js';
import { batchIndices, checkDataFiles, rowLength, stageExamples } from './examples.js';
import { parseChatExample } from './jsonl.js';

const chat = (answer: string) => ({
  messages: [
    { role: 'user', content: 'Q' },
    { role: 'assistant', content: answer },
  ],
});

describe('stage examples', () => {
  it('batches walk a seeded shuffle of each epoch: every example once per epoch, the same for the same step', () => {
    const epoch = Array.from({ length: 5 }, (_, step) => batchIndices(10, 2, step, 3)).flat();
    expect([...epoch].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batchIndices(10, 2, 1, 3)).toEqual(epoch.slice(2, 4));
    expect(batchIndices(10, 4, 2, 3)).toEqual([
      ...epoch.slice(8, 10),
      ...batchIndices(10, 2, 5, 3),
    ]);
    expect(batchIndices(10, 10, 1, 3)).not.toEqual(batchIndices(10, 10, 0, 3)); // a new order per epoch
    expect(batchIndices(10, 10, 0, 4)).not.toEqual(batchIndices(10, 10, 0, 3));
  });

  it('rows are as long as the longest example, rounded up to 8, within the window', () => {
    expect(rowLength([3, 17, 9], 64)).toBe(24);
    expect(rowLength([70], 64)).toBe(64);
    expect(rowLength([1], 64)).toBe(8);
  });

  it('generated data is bound for DIR/data but not written (the run writes it once it holds the folder); a user file is read as given; both are fingerprinted', () => {
    const out = tempDir();
    const names = { train: 'train.jsonl', heldout: 'heldout.jsonl' };
    const generated = { train: [chat('a'), chat('b')], heldout: [chat('c')] };
    const a = stageExamples(out, names, {}, () => generated, parseChatExample);
    expect(a.train).toEqual(generated.train);
    expect(a.files.train.path).toBe(join(out, 'data', 'train.jsonl'));
    const heldout = `${JSON.stringify(chat('c'))}\n`;
    expect(a.pending[a.files.heldout.path]).toBe(heldout);
    expect(a.files.heldout.sha256).toBe(createHash('sha256').update(heldout).digest('hex'));
    expect(existsSync(join(out, 'data'))).toBe(false);
    const mine = join(tempDir(), 'mine.jsonl');
    writeFileSync(mine, `${JSON.stringify(chat('d'))}\n`);
    const b = stageExamples(out, names, { train: mine }, () => generated, parseChatExample);
    expect(b.train).toEqual([chat('d')]);
    expect(b.files.train.path).toBe(mine);
    expect(() => checkDataFiles(b.files, a.files, 'run/tessera.json')).toThrow(
      `${mine} is not the train data the checkpoint was trained on (run/tessera.json field "dataFiles.train"`,
    );
    expect(() => checkDataFiles(a.files, a.files, 'x')).not.toThrow();
  });
});
