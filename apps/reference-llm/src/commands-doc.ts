import type { Command } from '@commander-js/extra-typings';

/** The markers around the generated part of the README. */
export const BEGIN =
  '<!-- commands: generated from src/commands/ by `npm run readme -w @tessera/reference-llm`; do not edit by hand -->';
export const END = '<!-- commands: end -->';

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** A Markdown table with padded columns, as the repository's formatter (biome) writes them. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** Commands that run, by their full name: a command's subcommands (`dllm train`) in its place. */
function leaves(commands: readonly Command[], prefix = ''): [string, Command][] {
  return commands.flatMap((c): [string, Command][] => {
    const name = `${prefix}${c.name()}`;
    const subs = c.commands as unknown as Command[];
    return subs.length ? leaves(subs, `${name} `) : [[name, c]];
  });
}

/**
 * The README's command reference, generated from the command definitions: a table of the
 * commands (subcommands by their full name), then each command's options with their defaults
 * and choices.
 */
export function commandsMarkdown(program: Command): string {
  const commands = leaves(program.commands as unknown as Command[]);
  const anchor = (name: string) => name.replaceAll(' ', '-');
  const out = table(
    ['command', 'what it does'],
    commands.map(([name, c]) => [
      `[\`${name}\`](#${anchor(name)})`,
      cell(c.summary() || c.description()),
    ]),
  );
  for (const [name, c] of commands) {
    out.push('', `#### ${name}`, '');
    if (c.description() && c.description() !== c.summary()) out.push(c.description(), '');
    for (const a of c.registeredArguments)
      out.push(
        `Argument \`${a.required ? `<${a.name()}>` : `[${a.name()}]`}\`: ${a.description}.`,
        '',
      );
    const options = c.options.filter((o) => o.long !== '--help');
    if (options.length === 0) {
      out.push('No options.');
      continue;
    }
    const rows = options.map((o) => {
      const choices = o.argChoices ? ` (${o.argChoices.join(', ')})` : '';
      const fallback = o.defaultValue === undefined ? '' : `\`${JSON.stringify(o.defaultValue)}\``;
      return [`\`${cell(o.flags)}\``, cell(fallback), cell(o.description + choices)];
    });
    out.push(...table(['option', 'default', 'what it sets'], rows));
  }
  return `${BEGIN}\n${out.join('\n')}\n${END}`;
}

/** The README with its generated part replaced; throws when the markers are missing. */
export function withCommands(readme: string, program: Command): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error('README.md: the commands markers are missing');
  return readme.slice(0, begin) + commandsMarkdown(program) + readme.slice(end + END.length);
}
