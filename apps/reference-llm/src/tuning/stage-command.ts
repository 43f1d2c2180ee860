import {
  type Command,
  type CommandUnknownOpts,
  Option,
  type OptionValues,
} from '@commander-js/extra-typings';
import type { Device } from '@tessera/tensor-webgpu';
import {
  backendOption,
  forceOption,
  integer,
  numberIn,
  resumeOption,
  runTrainingCommand,
} from '../command-options.js';
import type { StopSignal } from '../loop.js';

/** The options `stageOptions` adds, as commander parses them. */
export interface StageFlags {
  out: string;
  resume?: true;
  force?: true;
  maxMinutes?: number;
  saveEvery?: number;
  steps?: number;
  lr?: number;
  seed?: number;
  backend: 'auto' | 'webgpu' | 'cpu';
}

/** The options every tuning stage's command has: run folder handling, time limit, checkpoints, seed, backend. */
export function stageOptions<Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
  out: string,
): Command<Args, Opts & StageFlags> {
  const options = [
    new Option('--out <dir>', 'run folder').default(out),
    resumeOption(),
    forceOption(),
    new Option('--max-minutes <m>', 'stop after M minutes: evaluate, save, report').argParser(
      numberIn({ above: 0 }),
    ),
    new Option(
      '--save-every <n>',
      "checkpoint every N steps (default: the recipe's evaluation interval)",
    ).argParser(integer(1)),
    new Option('--steps <n>', "training steps (default: the recipe's)").argParser(integer(1)),
    new Option('--lr <rate>', "peak learning rate (default: the recipe's)").argParser(
      numberIn({ above: 0 }),
    ),
    new Option(
      '--seed <n>',
      'seeds the generated data, batches, sampling and adapters (default 1)',
    ).argParser(integer(0)),
    backendOption(),
  ];
  for (const option of options)
    (command as unknown as CommandUnknownOpts).addOption(option as never);
  return command as unknown as Command<Args, Opts & StageFlags>;
}

/**
 * Runs a stage from its command: on a device of the chosen backend, with Ctrl-C and SIGTERM
 * stopping after the current step (the checkpoint is saved; exit status 130 or 143).
 */
export async function runStageCommand<R extends { loop: { stopReason?: string } }>(
  backend: 'auto' | 'webgpu' | 'cpu',
  run: (device: Device, stop: StopSignal) => Promise<R>,
  report: (r: R) => string,
): Promise<void> {
  await runTrainingCommand(backend, run, report, (r) => r.loop.stopReason);
}
