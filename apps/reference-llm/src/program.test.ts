import type { Command } from '@commander-js/extra-typings';
import { CommanderError } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './program.js';

/** Parses `args` without running anything or exiting: returns what commander wrote, or its error. */
async function parse(
  args: string[],
): Promise<{ out: string; err: string; error?: CommanderError }> {
  const program = buildProgram();
  const io = { out: '', err: '' };
  const quiet = (c: Command<unknown[], Record<string, unknown>>) => {
    c.exitOverride().configureOutput({
      writeOut: (s) => (io.out += s),
      writeErr: (s) => (io.err += s),
    });
    for (const sub of c.commands)
      quiet(sub as unknown as Command<unknown[], Record<string, unknown>>);
  };
  quiet(program as unknown as Command<unknown[], Record<string, unknown>>);
  // Parse only: every command that runs (a subcommand, not its group) does nothing.
  const parseOnly = (c: Command): void => {
    if (c.commands.length === 0) c.action(() => {});
    for (const sub of c.commands) parseOnly(sub as unknown as Command);
  };
  for (const c of program.commands) parseOnly(c as unknown as Command);
  try {
    await program.parseAsync(['node', 'reference-llm', ...args]);
    return io;
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    return { ...io, error: e };
  }
}

describe('the command line', () => {
  it.each([
    [
      ['pretrain', '--steps', 'abc'],
      "option '--steps <n>' argument 'abc' is invalid. Expected an integer >= 1.",
    ],
    [
      ['pretrain', '--steps', '2.5'],
      "option '--steps <n>' argument '2.5' is invalid. Expected an integer >= 1.",
    ],
    [
      ['pretrain', '--max-minutes', '0'],
      "option '--max-minutes <m>' argument '0' is invalid. Expected a number > 0.",
    ],
    [
      ['pretrain', '--preset', 'huge'],
      "option '--preset <name>' argument 'huge' is invalid. Allowed choices are tiny, small, base.",
    ],
    [['pretrain', '--save-every', '0'], "option '--save-every <n>' argument '0' is invalid."],
    [['pretrain', '--resume', '--force'], "option '--resume' cannot be used with option '--force'"],
    [
      ['generate', '--temperature', '-1'],
      "option '--temperature <t>' argument '-1' is invalid. Expected a number >= 0.",
    ],
    [
      ['generate', '--top-p', '2'],
      "option '--top-p <p>' argument '2' is invalid. Expected a number > 0 and <= 1.",
    ],
    [
      ['generate', '--top-k', '0'],
      "option '--top-k <k>' argument '0' is invalid. Expected an integer >= 1.",
    ],
    [['generate', '--min-p', 'x'], "option '--min-p <p>' argument 'x' is invalid."],
    [['generate', '--stesp', '3'], "unknown option '--stesp'"],
    [
      ['eval', '--backend', 'tpu'],
      "option '--backend <kind>' argument 'tpu' is invalid. Allowed choices are auto, webgpu, wasm, cpu.",
    ],
    [
      ['tasks', '--fewshot', '-1'],
      "option '--fewshot <n>' argument '-1' is invalid. Expected an integer >= 0.",
    ],
    [['profile', '--steps', ''], "option '--steps <n>' argument '' is invalid."],
    [['scaling', '--preset', 'tiny'], "unknown option '--preset'"],
    [
      ['dllm', 'train', '--steps', '0'],
      "option '--steps <n>' argument '0' is invalid. Expected an integer >= 1.",
    ],
    [['dllm', 'sample'], "unknown command 'sample'"],
    [
      ['rag', 'query', '--index', 'index', ''],
      "command-argument value '' is invalid for argument 'question'. Expected text that is not empty or only whitespace.",
    ],
    [
      ['agent', ' \t'],
      "command-argument value ' \t' is invalid for argument 'question'. Expected text that is not empty or only whitespace.",
    ],
    [
      ['agent', '--method', 'bogus', 'hi'],
      "option '--method <name>' argument 'bogus' is invalid. Allowed choices are bm25, dense, hybrid-rrf, hybrid-weighted, hybrid-rerank.",
    ],
    [['train'], "unknown command 'train'"],
  ])('%j is an error naming the flag', async (args, message) => {
    const { error, err } = await parse(args);
    expect(error?.exitCode).toBe(1);
    expect(err).toContain(`error: ${message}`);
  });

  it('every command has its own --help that says what it does and lists its options', async () => {
    for (const [command, flag] of [
      ['pretrain', '--save-every <n>'],
      ['generate', '--max-new-tokens <n>'],
      ['eval', '--data <file>'],
      ['tasks', '--fewshot <n>'],
      ['profile', '--optimizer <name>'],
      ['scaling', '--help'],
      ['dllm train', '--max-minutes <m>'],
    ] as const) {
      const { out, error } = await parse([...command.split(' '), '--help']);
      expect(error?.code).toBe('commander.helpDisplayed');
      expect(out).toContain(`Usage: reference-llm ${command}`);
      expect(out).toContain(flag);
      const [name, sub] = command.split(' ');
      const top = buildProgram().commands.find((c) => c.name() === name)!;
      const made = sub ? top.commands.find((c) => c.name() === sub)! : top;
      expect(made.description()).not.toBe('');
      expect(out).toContain(made.description().slice(0, 40));
    }
  });

  it('good values parse to numbers', async () => {
    const program = buildProgram();
    let seen: unknown;
    const generate = program.commands.find((c) => c.name() === 'generate')!;
    (generate as unknown as Command).action((o) => {
      seen = o;
    });
    await program.parseAsync([
      'node',
      'x',
      'generate',
      '--top-p',
      '0.9',
      '--temperature',
      '0',
      '--top-k',
      '5',
    ]);
    expect(seen).toMatchObject({
      topP: 0.9,
      temperature: 0,
      topK: 5,
      maxNewTokens: 200,
      backend: 'auto',
    });
  });

  it('pretrain --moe parses EXPERTSxK, with --shared-experts, --balance and --capacity-factor', async () => {
    const program = buildProgram();
    let seen: unknown;
    const pretrain = program.commands.find((c) => c.name() === 'pretrain')!;
    (pretrain as unknown as Command).action((o) => {
      seen = o;
    });
    await program.parseAsync(
      'node x pretrain --moe 8x2 --shared-experts 1 --balance aux-free --capacity-factor 1.25'.split(
        ' ',
      ),
    );
    expect(seen).toMatchObject({
      moe: { experts: 8, topK: 2 },
      sharedExperts: 1,
      balance: 'aux-free',
      capacityFactor: 1.25,
    });
    expect((await parse(['pretrain', '--moe', '8x2', '--capacity-factor', '0'])).err).toContain(
      "option '--capacity-factor <f>' argument '0' is invalid",
    );
    const bad = await parse(['pretrain', '--moe', '2x3']);
    expect(bad.err).toContain(
      "option '--moe <EXPERTSxK>' argument '2x3' is invalid. Expected EXPERTSxK with 1 <= K <= EXPERTS, e.g. 8x2.",
    );
    expect((await parse(['pretrain', '--moe', '8x2', '--balance', 'none'])).err).toContain(
      'Allowed choices are aux, aux-free.',
    );
  });
});
