import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shakespeare, tempDir } from '../test-utils/fixtures.js';
import { DATA_FILES, writeTuningData } from './data-files.js';
import { parseChatExample, parsePreferenceExample, readJsonl } from './jsonl.js';

describe('writeTuningData', () => {
  it('writes both splits of the instruction data and of the pairs, in the formats the stages read', () => {
    const dir = tempDir();
    const sizes = { train: 12, heldout: 3 };
    const paths = writeTuningData(dir, 1, shakespeare(100_000), { sft: sizes, pairs: sizes });
    expect(Object.values(paths).map((p) => basename(p))).toEqual(Object.values(DATA_FILES));
    expect(readJsonl(paths.sftTrain, parseChatExample)).toHaveLength(12);
    expect(readJsonl(paths.pairsHeldout, parsePreferenceExample)).toHaveLength(3);
    const again = writeTuningData(tempDir(), 1, shakespeare(100_000), { sft: sizes, pairs: sizes });
    expect(readFileSync(again.pairsTrain, 'utf8')).toBe(readFileSync(paths.pairsTrain, 'utf8'));
  });
});
