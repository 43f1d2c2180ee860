import { testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../presets.js';
import { runCommand } from '../test-utils/commands.js';
import { profileCommand } from './profile.js';

const { cpu } = await testDevices();

describe('profile, the command', () => {
  it("prints the preset's model, the throughput, the time to the first step and three steps' time kernel by kernel", async () => {
    const out = await runCommand(profileCommand, ['--steps', '1']);
    const tiny = PRESETS.tiny!;
    const params = new DecoderLM({ ...tiny.model, vocabSize: tiny.vocabSize }, cpu).numParameters();
    const lines = out.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        `^tiny: ${params} parameters, ${tiny.batchSize}×${tiny.seqLen} tokens a step, adamw, on `,
      ),
    );
    const rate = lines[1]!.match(/^(\d+) tokens\/s over 1 steps, ([\d.]+) model GFLOP\/s$/);
    expect(rate).not.toBeNull();
    expect(Number(rate![1])).toBeGreaterThan(0);
    const first = lines[2]!.match(
      /^time to first step ([\d.]+) s from the process's start \((\d+) pipelines compiled; /,
    );
    expect(first).not.toBeNull();
    expect(Number(first![1])).toBeGreaterThan(0);
    // The step's kernels were compiled (the CPU reference compiles nothing).
    if (!/ on cpu$/.test(lines[0]!)) expect(Number(first![2])).toBeGreaterThan(10);
    expect(out).toContain('3 steps, by kernel:');
    await expect(runCommand(profileCommand, ['--preset', 'huge'])).rejects.toThrow(
      "option '--preset <name>' argument 'huge' is invalid",
    );
  });
});
