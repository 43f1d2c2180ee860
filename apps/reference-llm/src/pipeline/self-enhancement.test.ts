import { symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FILES, readCheckpoint } from '../run-folder.js';
import { tempDir } from '../test-utils/fixtures.js';
import { stubJudge } from '../test-utils/judge-endpoint.js';
import { listen, microRun, servedMicro } from '../test-utils/serve.js';
import {
  judgeCard,
  type StageCheckpoint,
  selfEnhancementCaveat,
  stageCheckpoints,
} from './self-enhancement.js';

const { cpu } = await testDevices();
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

/** A pipeline folder whose `pretrain` stage is the micro run (a link to its folder). */
async function pipelineOfMicro(): Promise<string> {
  const out = tempDir();
  symlinkSync(await microRun(cpu), join(out, 'pretrain'));
  return out;
}

const checkpoints: StageCheckpoint[] = [
  { stage: 'pretrain', dir: '/runs/p/pretrain', weights: 'a'.repeat(64) },
  { stage: 'sft', dir: '/runs/p/sft', weights: 'b'.repeat(64) },
  { stage: 'dpo', dir: '/runs/p/dpo', weights: 'c'.repeat(64) },
];
const tail =
  '; a judge tends to favour answers like its own, so its verdicts may favour the stages whose answers resemble its own; prefer an independent judge';

describe('selfEnhancementCaveat', () => {
  it('names the stage whose checkpoint the judge is, by its weights or the folder it was loaded from', () => {
    expect(
      selfEnhancementCaveat(
        { id: 'judge', owned_by: 'tessera', weights_sha256: 'b'.repeat(64) },
        checkpoints,
      ),
    ).toBe(`self-enhancement: the judge "judge" is this pipeline's sft model (/runs/p/sft)${tail}`);
    // vLLM's card: root is the path it loaded (a checkpoint folder inside the stage's).
    expect(
      selfEnhancementCaveat(
        { id: 'm', owned_by: 'vllm', root: '/runs/p/dpo/checkpoints/step-000150' },
        checkpoints,
      ),
    ).toBe(`self-enhancement: the judge "m" is this pipeline's dpo model (/runs/p/dpo)${tail}`);
  });

  it('warns of any model reference-llm serve serves, and of a judge named as a stage', () => {
    expect(
      selfEnhancementCaveat(
        { id: 'other', owned_by: 'tessera', weights_sha256: 'f'.repeat(64) },
        checkpoints,
      ),
    ).toBe(
      `self-enhancement: the judge "other" is served by reference-llm serve, a model of this project's own training code and data${tail}`,
    );
    expect(selfEnhancementCaveat({ id: 'dpo' }, checkpoints)).toBe(
      `self-enhancement: the judge "dpo" is named as this pipeline's dpo stage${tail}`,
    );
  });

  it('has nothing to say of an independent judge', () => {
    expect(selfEnhancementCaveat({ id: 'stub' }, checkpoints)).toBeUndefined();
    expect(
      selfEnhancementCaveat(
        { id: 'llama-3-70b', owned_by: 'vllm', root: '/models/llama-3-70b' },
        checkpoints,
      ),
    ).toBeUndefined();
    // A sibling folder whose name starts like a stage's is not inside it.
    expect(
      selfEnhancementCaveat({ id: 'x', root: '/runs/p/sft-copy' }, checkpoints),
    ).toBeUndefined();
    expect(selfEnhancementCaveat({ id: 'sft' }, [])).toBeUndefined();
  });
});

describe('the judge’s card and the pipeline’s checkpoints', () => {
  it('reference-llm serve serving a stage’s checkpoint under another name is that stage', async () => {
    const out = await pipelineOfMicro();
    const trained = stageCheckpoints(out);
    expect(trained).toEqual([
      {
        stage: 'pretrain',
        dir: join(out, 'pretrain'),
        weights: readCheckpoint(join(out, 'pretrain')).state.files[FILES.model],
      },
    ]);
    const server = await listen([await servedMicro(cpu, {}, 'judge')]);
    closers.push(server.close);
    const card = await judgeCard(`${server.url}/`, 'judge');
    expect(card).toMatchObject({ id: 'judge', owned_by: 'tessera' });
    expect(selfEnhancementCaveat(card, trained)).toBe(
      `self-enhancement: the judge "judge" is this pipeline's pretrain model (${join(out, 'pretrain')})${tail}`,
    );
    // Another pipeline (none of its stages is the served checkpoint): still the project's server.
    expect(selfEnhancementCaveat(card, stageCheckpoints(tempDir()))).toMatch(
      /^self-enhancement: the judge "judge" is served by reference-llm serve/,
    );
  });

  it('an endpoint that lists other models, none, or no /v1/models route gives only the name', async () => {
    const stub = await stubJudge();
    closers.push(stub.close);
    expect(await judgeCard(stub.url, 'stub')).toEqual({ id: 'stub' });
    expect(await judgeCard(stub.url, 'gpt-4o')).toEqual({ id: 'gpt-4o' });
    const bare = createServer((_, res) => {
      res.statusCode = 404;
      res.end('{}');
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => bare.close(resolve)));
    const url = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
    expect(await judgeCard(url, 'judge')).toEqual({ id: 'judge' });
    expect(await judgeCard('http://127.0.0.1:1', 'judge')).toEqual({ id: 'judge' });
  });
});
