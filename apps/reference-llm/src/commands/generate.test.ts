import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { complete } from '../load.js';
import { microRun, overflowingCopy } from '../test-utils/checkpoints.js';
import { runCommand } from '../test-utils/commands.js';
import { generateCommand } from './generate.js';

const { cpu } = await testDevices();
const dir = await microRun(cpu);

describe('generate, the command', () => {
  it('prints the prompt, then the completion the checkpoint gives (greedy), then a line break', async () => {
    const args = ['--checkpoint', dir, '--prompt', 'ROMEO:', '--temperature', '0'];
    const out = await runCommand(generateCommand, [
      ...args,
      '--max-new-tokens',
      '8',
      '--backend',
      'cpu',
    ]);
    const expected = await complete(dir, 'ROMEO:', {
      device: cpu,
      maxNewTokens: 8,
      temperature: 0,
    });
    expect(expected.length).toBeGreaterThan(0);
    expect(out).toBe(`ROMEO:${expected}\n`);
    // Seeded sampling is reproducible.
    const sampled = [...args.slice(0, 4), '--temperature', '1', '--seed', '5', '--backend', 'cpu'];
    expect(await runCommand(generateCommand, sampled)).toBe(
      await runCommand(generateCommand, sampled),
    );
  });

  it('refuses bad flags naming them, and a checkpoint whose logits are not finite with the app’s message', async () => {
    await expect(
      runCommand(generateCommand, ['--checkpoint', dir, '--top-p', '2']),
    ).rejects.toThrow("option '--top-p <p>' argument '2' is invalid");
    const overflowing = await overflowingCopy(dir);
    await expect(
      runCommand(generateCommand, ['--checkpoint', overflowing, '--backend', 'cpu']),
    ).rejects.toThrow(
      `${overflowing}: the model produced non-finite logits (the checkpoint's weights overflow?)`,
    );
  });
});
