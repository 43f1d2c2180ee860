import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeAtomic } from './atomic-write.js';
import { tempDir } from './test-utils/fixtures.js';

describe('writeAtomic', () => {
  it('replaces the file whole and leaves no temporary file', () => {
    const dir = tempDir();
    const path = join(dir, 'a.json');
    writeFileSync(path, 'old');
    writeAtomic(path, 'new');
    writeAtomic(join(dir, 'b.bin'), new Uint8Array([1, 2, 3]));
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect([...readFileSync(join(dir, 'b.bin'))]).toEqual([1, 2, 3]);
    expect(readdirSync(dir).sort()).toEqual(['a.json', 'b.bin']);
  });
});
