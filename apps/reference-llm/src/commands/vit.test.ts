import type { Command } from '@commander-js/extra-typings';
import { CommanderError } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../program.js';

type AnyCommand = Command<unknown[], Record<string, unknown>>;

/** Parses `args` without running anything: what commander wrote or its error, and the options the action got. */
async function parse(args: string[]) {
  const program = buildProgram() as unknown as AnyCommand;
  const io = {
    out: '',
    err: '',
    seen: undefined as unknown,
    error: undefined as CommanderError | undefined,
  };
  const quiet = (c: AnyCommand) => {
    c.exitOverride().configureOutput({
      writeOut: (s) => (io.out += s),
      writeErr: (s) => (io.err += s),
    });
    if (c.commands.length === 0)
      c.action((...a: unknown[]) => {
        io.seen = a.slice(0, -1);
      });
    for (const sub of c.commands) quiet(sub as unknown as AnyCommand);
  };
  quiet(program);
  try {
    await program.parseAsync(['node', 'reference-llm', ...args]);
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    io.error = e;
  }
  return io;
}

describe('vit commands', () => {
  it.each([
    [
      ['vit', 'train', '--patch', '5'],
      "option '--patch <px>' argument '5' is invalid. Allowed choices are 4, 7, 14.",
    ],
    [
      ['vit', 'train', '--positions', 'sine'],
      "option '--positions <kind>' argument 'sine' is invalid. Allowed choices are learned, rope2d.",
    ],
    [
      ['vit', 'train', '--drop-path', '1'],
      "option '--drop-path <p>' argument '1' is invalid. Expected a number >= 0 and <= 0.9.",
    ],
    [
      ['vit', 'train', '--resume', '--force'],
      "option '--resume' cannot be used with option '--force'",
    ],
    [['vit', 'predict'], "missing required argument 'image'"],
    [
      ['vit', 'caption', '--steps', '0'],
      "option '--steps <n>' argument '0' is invalid. Expected an integer >= 1.",
    ],
    [['vit', 'fly'], "unknown command 'fly'"],
    [
      ['generate', '--image', 'digit.png', '--prompt', 'a'],
      "option '--image <file>' cannot be used with option '--prompt <text>'",
    ],
  ])('%j is an error naming the flag', async (args, message) => {
    const { error, err } = await parse(args);
    expect(error?.exitCode).toBe(1);
    expect(err).toContain(`error: ${message}`);
  });

  it('parses the flags each action gets', async () => {
    const train = await parse([
      'vit',
      'train',
      '--positions',
      'rope2d',
      '--steps',
      '20',
      '--no-baseline',
    ]);
    expect(train.seen).toEqual([
      expect.objectContaining({ positions: 'rope2d', steps: 20, baseline: false, out: 'runs/vit' }),
    ]);
    const predict = await parse(['vit', 'predict', '42', '--checkpoint', 'runs/x']);
    expect(predict.seen).toEqual(['42', expect.objectContaining({ checkpoint: 'runs/x' })]);
    const generate = await parse([
      'generate',
      '--checkpoint',
      'runs/vit-caption',
      '--image',
      'digit.png',
    ]);
    expect(generate.seen).toEqual([expect.objectContaining({ image: 'digit.png' })]);
  });

  it('each has its own --help saying what it does', async () => {
    for (const [command, flag] of [
      ['train', '--positions <kind>'],
      ['predict', '--save <file>'],
      ['caption', '--lm <dir>'],
    ] as const) {
      const { out, error } = await parse(['vit', command, '--help']);
      expect(error?.code).toBe('commander.helpDisplayed');
      expect(out).toContain(`Usage: reference-llm vit ${command}`);
      expect(out).toContain(flag);
    }
  });
});
