import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { vi } from 'vitest';

/**
 * Runs one command of the CLI in this process (`make` is its factory from `commands/`, `args`
 * what follows the command's name), returning what it printed to standard output; a commander
 * error (a bad flag) is thrown rather than exiting.
 */
export async function runCommand(make: () => CommandUnknownOpts, args: string[]): Promise<string> {
  let out = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    out += `${a.join(' ')}\n`;
  });
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    out += String(chunk);
    return true;
  });
  try {
    const command = make()
      .exitOverride()
      .configureOutput({ writeErr: () => {} });
    await command.parseAsync(args, { from: 'user' });
    return out;
  } finally {
    log.mockRestore();
    write.mockRestore();
  }
}
