import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { syncFolder } from '../atomic-write.js';

/** How {@link checkNewFolder} and {@link writeNewFolder} name the folder in messages. */
export interface NewFolderOptions {
  /** What the folder holds, for messages: `'the index'`, `'the models'`. */
  what: string;
  /**
   * The command's `--force` flag: `true` replaces an existing folder, `false` (not given) refuses
   * it and says `--force` would; absent where the command has no such flag.
   */
  force?: boolean;
}

/**
 * Checks that a command may write the folder `out` (given as `--out`): it does not exist, or
 * `force` replaces it. Commands call it before their work, so a long run does not end in the
 * error.
 *
 * @throws Error - `out` exists without `force`, saying to give a new folder (or `--force`, where
 *   the command has it)
 */
export function checkNewFolder(out: string, o: NewFolderOptions): void {
  if (existsSync(out) && !o.force)
    throw new Error(
      `--out ${out} exists; give a new folder for ${o.what}${o.force === false ? ', or --force to replace it' : ''}`,
    );
}

/**
 * Writes the folder `out` whole or not at all: `write` fills a fresh folder beside it under a
 * temporary name, which is then renamed to `out` — with `force`, after the old `out` is moved
 * aside (and then deleted), so a failed run leaves the old folder as it was and no half-written
 * one.
 *
 * @throws Error - as {@link checkNewFolder}; whatever `write` throws (its folder removed)
 */
export async function writeNewFolder(
  out: string,
  o: NewFolderOptions,
  write: (dir: string) => void | Promise<void>,
): Promise<void> {
  checkNewFolder(out, o);
  const temp = (kind: string) => join(dirname(out), `.${basename(out)}.${kind}-${process.pid}`);
  const partial = temp('partial');
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    await write(partial);
    checkNewFolder(out, o);
    if (existsSync(out)) {
      const replaced = temp('replaced');
      rmSync(replaced, { recursive: true, force: true });
      renameSync(out, replaced);
      try {
        renameSync(partial, out);
      } catch (e) {
        renameSync(replaced, out);
        throw e;
      }
      rmSync(replaced, { recursive: true, force: true });
    } else renameSync(partial, out);
    syncFolder(dirname(out));
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    throw e;
  }
}
