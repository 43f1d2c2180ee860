import { Command } from '@commander-js/extra-typings';
import { COMMANDS } from './commands/index.js';

/**
 * The `reference-llm` program: one subcommand per file in `commands/`, each declaring its own
 * options (commander parses them: `--help` per command; unknown flags, missing and bad values
 * are errors naming the flag).
 */
export function buildProgram(): Command {
  const program = new Command('reference-llm')
    .description(
      'The Tessera reference app: pretrain a small GPT on a text with the Tessera packages, sample from it, evaluate it.',
    )
    .showHelpAfterError('(add --help for usage)');
  for (const make of COMMANDS) program.addCommand(prepare(make()));
  return program;
}

/** A command and its subcommands show help after an error; --help opens with what each does. */
function prepare<C extends Command<unknown[], Record<string, unknown>>>(command: C): C {
  command.showHelpAfterError('(add --help for usage)');
  // A command's --help opens with what it does: its description, else its one-line summary.
  if (!command.description()) command.description(command.summary());
  for (const sub of command.commands) prepare(sub as Command<unknown[], Record<string, unknown>>);
  return command;
}
