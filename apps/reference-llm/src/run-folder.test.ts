import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkRunFolder,
  claimRunFolder,
  FILES,
  readCheckpoint,
  writeCheckpoint,
} from './run-folder.js';
import { tempDir } from './test-utils/fixtures.js';

const save = (dir: string, step: number, extra: Record<string, unknown> = {}) =>
  writeCheckpoint(
    dir,
    { [FILES.model]: new Uint8Array([step, 1, 2]), [FILES.tokenizer]: `{"step":${step}}` },
    {
      step,
      totalSteps: 10,
      ...extra,
    },
  );

const claim = (dir: string, o: Parameters<typeof claimRunFolder>[1] = {}) => {
  checkRunFolder(dir, o);
  return claimRunFolder(dir, o);
};

describe('run folder', () => {
  it('a save is one step folder named by run.json; the previous one goes once the new one is complete', () => {
    const dir = tempDir();
    claim(dir).release();
    save(dir, 2);
    save(dir, 4);
    expect(JSON.parse(readFileSync(join(dir, FILES.pointer), 'utf8'))).toEqual({
      format: 'tessera-run',
      version: 2,
      checkpoint: 'checkpoints/step-000004',
    });
    expect(readdirSync(join(dir, FILES.checkpoints))).toEqual(['step-000004']);
    const ckpt = readCheckpoint(dir);
    expect(ckpt.state).toMatchObject({ step: 4, totalSteps: 10, version: 2 });
    expect([...ckpt.read(FILES.model)]).toEqual([4, 1, 2]);
  });

  it('a crash during a save leaves the last complete checkpoint in place; the next run clears the debris', () => {
    const dir = tempDir();
    save(dir, 2);
    // A save of step 4 killed mid-way: a half-written step folder and a temporary pointer; another
    // killed after its rename but before the pointer switched.
    mkdirSync(join(dir, 'checkpoints/step-000004.partial-999'));
    writeFileSync(join(dir, 'checkpoints/step-000004.partial-999', FILES.model), 'half');
    writeFileSync(join(dir, 'run.json.tmp-999'), '{"checkpoint": ');
    cpSync(join(dir, 'checkpoints/step-000002'), join(dir, 'checkpoints/step-000006'), {
      recursive: true,
    });
    expect(readCheckpoint(dir).state.step).toBe(2);
    checkRunFolder(dir, { resume: true }); // checks change nothing
    expect(readdirSync(join(dir, FILES.checkpoints))).toHaveLength(3);
    claimRunFolder(dir, { resume: true }, readCheckpoint(dir)).release();
    expect(readdirSync(dir).sort()).toEqual(['checkpoints', 'run.json']);
    expect(readdirSync(join(dir, FILES.checkpoints))).toEqual(['step-000002']);
  });

  it('refuses to overwrite a checkpoint without --resume or --force; checks change nothing', () => {
    const dir = tempDir();
    save(dir, 3);
    writeFileSync(join(dir, 'report.md'), '# old');
    expect(() => checkRunFolder(dir, {})).toThrow(
      `${dir} holds a checkpoint at step 3 of 10; pass --resume to continue it or --force to delete it and start over`,
    );
    expect(() => checkRunFolder(dir, { resume: true, force: true })).toThrow(/contradict/);
    checkRunFolder(dir, { force: true });
    expect(readdirSync(dir).sort()).toEqual(['checkpoints', 'report.md', 'run.json']);
    const empty = tempDir();
    expect(() => checkRunFolder(empty, { resume: true })).toThrow(
      `${join(empty, 'run.json')}: is missing: there is no checkpoint to resume in this folder`,
    );
    // --resume into a folder that does not exist is refused without creating it.
    const missing = join(empty, 'nowhere');
    expect(() => checkRunFolder(missing, { resume: true })).toThrow(/run\.json: is missing/);
    expect(existsSync(missing)).toBe(false);
    // A version 1 folder (files at the top level) is a checkpoint too, and reads as a clear error.
    writeFileSync(join(empty, 'config.json'), '{}');
    writeFileSync(join(empty, 'model.safetensors'), '');
    expect(() => checkRunFolder(empty, {})).toThrow(
      /holds a checkpoint \(in the version 1 layout\)/,
    );
    expect(() => readCheckpoint(empty)).toThrow(/run\.json: is missing: .* version 1 layout/);
  });

  it('--force keeps the replaced checkpoint and report until the new run saves its first checkpoint', () => {
    const dir = tempDir();
    save(dir, 3);
    save(dir, 4);
    writeFileSync(join(dir, 'report.md'), '# old');
    writeFileSync(join(dir, 'tasks.json'), '{}');
    const run = claim(dir, { force: true });
    expect(readCheckpoint(dir).state.step).toBe(4);
    expect(readdirSync(dir).sort()).toEqual([
      'checkpoints',
      'report.md',
      'run.json',
      'run.lock',
      'tasks.json',
    ]);
    // The new run's first checkpoint is of step 4 too: the old one is set aside, not deleted first.
    save(dir, 4, { fresh: true });
    run.saved();
    run.release();
    expect(readdirSync(dir).sort()).toEqual(['checkpoints', 'run.json']);
    expect(readdirSync(join(dir, FILES.checkpoints))).toEqual(['step-000004']);
    expect(readCheckpoint(dir).state).toMatchObject({ step: 4, fresh: true });
  });

  it('a resume refuses a folder whose checkpoint changed after it was read', () => {
    const dir = tempDir();
    save(dir, 2);
    const read = readCheckpoint(dir);
    save(dir, 3); // another process saved meanwhile
    expect(() => claimRunFolder(dir, { resume: true }, read)).toThrow(
      /run\.json: names checkpoints\/step-000003 now, not the checkpoint this run read/,
    );
    expect(existsSync(join(dir, FILES.lock))).toBe(false);
  });

  it('verify checks every recorded file, config.json included: missing or changed is refused', () => {
    const dir = tempDir();
    writeCheckpoint(
      dir,
      { [FILES.model]: new Uint8Array([1]), [FILES.hfConfig]: '{"vocab_size": 300}\n' },
      { step: 1, totalSteps: 2 },
    );
    const config = join(dir, 'checkpoints/step-000001', FILES.hfConfig);
    readCheckpoint(dir).verify();
    writeFileSync(config, '{"vocab_size": 999}\n');
    expect(() => readCheckpoint(dir).verify()).toThrow(
      new RegExp(`^${config}: is not the file saved with this checkpoint`),
    );
    rmSync(config);
    expect(() => readCheckpoint(dir).verify()).toThrow(new RegExp(`^${config}: .*missing`));
  });

  it('a file of another checkpoint (a mixed set) is refused, naming the file and the field', () => {
    const dir = tempDir();
    save(dir, 2);
    const other = tempDir();
    save(other, 5);
    const folder = join(dir, 'checkpoints/step-000002');
    cpSync(join(other, 'checkpoints/step-000005', FILES.model), join(folder, FILES.model));
    cpSync(join(other, 'checkpoints/step-000005', FILES.tokenizer), join(folder, FILES.tokenizer));
    const ckpt = readCheckpoint(dir);
    expect(() => ckpt.read(FILES.model)).toThrow(
      new RegExp(
        `^${join(folder, FILES.model)}: is not the file saved with this checkpoint: its SHA-256 fingerprint is [0-9a-f]{12}…, checkpoints/step-000002/tessera.json records [0-9a-f]{12}… \\(field files\\["model.safetensors"\\]\\)`,
      ),
    );
    expect(() => ckpt.read(FILES.tokenizer)).toThrow(
      /tokenizer\.json: is not the tokenizer the model was trained with/,
    );
    expect(() => ckpt.read('other.bin')).toThrow(/field "files\["other\.bin"\]" is missing/);
  });

  it('checks tessera.json: corrupt, a step that is not an integer or out of range, another version', () => {
    const dir = tempDir();
    save(dir, 2);
    const stateFile = join(dir, 'checkpoints/step-000002', FILES.state);
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    const rewrite = (patch: Record<string, unknown>) =>
      writeFileSync(stateFile, JSON.stringify({ ...state, ...patch }));
    for (const [patch, message] of [
      [{ step: 2.5 }, 'field "step" is 2.5, expected an integer in [0, 10] (totalSteps)'],
      [{ step: 11 }, 'field "step" is 11, expected an integer in [0, 10]'],
      [{ step: '2' }, 'field "step" is "2"'],
      [{ totalSteps: 0 }, 'field "totalSteps" is 0, expected an integer >= 1'],
      [{ version: 1 }, 'field "version" is 1, expected 2'],
    ] as const) {
      rewrite(patch);
      expect(() => readCheckpoint(dir)).toThrow(`${stateFile}: ${message}`);
    }
    writeFileSync(stateFile, '{"step": ');
    expect(() => readCheckpoint(dir)).toThrow(`${stateFile}: is corrupt`);
    writeFileSync(join(dir, FILES.pointer), '{"format":"tessera-run","version":3}');
    expect(() => readCheckpoint(dir)).toThrow(
      /run\.json: field "version" is 3; this reference-llm reads version 2/,
    );
    expect(existsSync(join(dir, 'nope'))).toBe(false);
    expect(() => readCheckpoint(join(dir, 'nope'))).toThrow(
      /nope\/run\.json: is missing \(is this a reference-llm run folder\?\)/,
    );
  });
});
