import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { evaluateCheckpoint } from '../evaluate.js';
import { readCheckpoint } from '../run-folder.js';
import { microRun, overflowingCopy } from '../test-utils/checkpoints.js';
import { runCommand } from '../test-utils/commands.js';
import { data, textFile } from '../test-utils/fixtures.js';
import { evalCommand } from './eval.js';

const { cpu } = await testDevices();
const dir = await microRun(cpu);

describe('eval, the command', () => {
  it("scores the text the run trained on by default and prints evaluateCheckpoint's figures", async () => {
    expect(readCheckpoint(dir).state).toMatchObject({ data: { path: data } });
    const out = await runCommand(evalCommand, ['--checkpoint', dir, '--backend', 'cpu']);
    const r = await evaluateCheckpoint(dir, { data, device: cpu });
    expect(out).toBe(
      `validation: ${r.tokens} tokens, ${r.meanNll.toFixed(4)} nats/token, perplexity ${r.perplexity.toFixed(2)}, ${r.bitsPerByte.toFixed(3)} bits/byte\n`,
    );
    expect(r.bitsPerByte).toBeGreaterThan(0);
  });

  it('refuses a text too short, naming the file, and logits that are not finite', async () => {
    const five = textFile('five.');
    await expect(
      runCommand(evalCommand, ['--checkpoint', dir, '--data', five, '--backend', 'cpu']),
    ).rejects.toThrow(`eval --data ${five}: the validation split has 1 tokens`);
    const overflowing = await overflowingCopy(dir);
    await expect(
      runCommand(evalCommand, ['--checkpoint', overflowing, '--backend', 'cpu']),
    ).rejects.toThrow(
      `${overflowing}: the model produced non-finite logits (the checkpoint's weights overflow?): the log-likelihood of the validation window at token 0 is NaN`,
    );
  });
});
