import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-utils/fixtures.js';
import { checkNewFolder, writeNewFolder } from './new-folder.js';

const write = (text: string) => (dir: string) => writeFileSync(join(dir, 'a.txt'), text);

describe('new folders', () => {
  it('refuses an existing folder, saying --force where the command has it', () => {
    const root = tempDir();
    expect(() =>
      checkNewFolder(join(root, 'new'), { what: 'the models', force: false }),
    ).not.toThrow();
    expect(() => checkNewFolder(root, { what: 'the models', force: false })).toThrow(
      `--out ${root} exists; give a new folder for the models, or --force to replace it`,
    );
    expect(() => checkNewFolder(root, { what: 'the index' })).toThrow(
      new RegExp(`^--out ${root} exists; give a new folder for the index$`),
    );
    expect(() => checkNewFolder(root, { what: 'the models', force: true })).not.toThrow();
  });

  it('writes a folder whole, replaces one only with force, and leaves the old one when a write fails', async () => {
    const root = tempDir();
    const out = join(root, 'out');
    await writeNewFolder(out, { what: 'it', force: false }, write('one'));
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('one');
    await expect(writeNewFolder(out, { what: 'it', force: false }, write('two'))).rejects.toThrow(
      /exists/,
    );
    // A failed write leaves the old folder as it was, and nothing of the new one.
    const fail = () => {
      throw new Error('disk full');
    };
    await expect(writeNewFolder(out, { what: 'it', force: true }, fail)).rejects.toThrow(
      'disk full',
    );
    expect(readdirSync(root)).toEqual(['out']);
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('one');
    // force replaces the folder: files of the old one do not survive.
    mkdirSync(join(out, 'stale'));
    await writeNewFolder(out, { what: 'it', force: true }, write('three'));
    expect(readdirSync(out)).toEqual(['a.txt']);
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('three');
    expect(readdirSync(root)).toEqual(['out']);
    await expect(writeNewFolder(join(root, 'never'), { what: 'it' }, fail)).rejects.toThrow();
    expect(existsSync(join(root, 'never'))).toBe(false);
  });
});
