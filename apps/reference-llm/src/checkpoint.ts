import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes a file atomically: to a temporary name in the same folder, then renamed over the target. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** The files of a checkpoint folder. */
export const FILES = {
  model: 'model.safetensors',
  optimizer: 'optimizer.safetensors',
  tokenizer: 'tokenizer.json',
  config: 'config.json',
  /** Results of `reference-llm tasks`. */
  tasks: 'tasks.json',
} as const;

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/** Reads a checkpoint file, with an error that names the folder and what is missing or corrupt. */
export function readCheckpointFile(dir: string, file: string): Buffer {
  const path = join(dir, file);
  if (!existsSync(path))
    throw new Error(
      `checkpoint ${dir}: ${file} is missing (is this a reference-llm checkpoint folder?)`,
    );
  return readFileSync(path);
}

export function readCheckpointJson<T>(dir: string, file: string): T {
  const text = readCheckpointFile(dir, file).toString('utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`checkpoint ${dir}: ${file} is corrupt (${(e as Error).message})`);
  }
}
