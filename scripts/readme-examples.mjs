#!/usr/bin/env node
// Keeps README examples identical to the files that are run: a fenced block right after
// `<!-- include examples/FILE -->` is replaced with that file. `npm run format` calls this
// after the formatter; `npm run pack:check` fails if a README quotes an example differently.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
for (const base of ['packages', 'apps']) {
  const dir = join(root, base);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    const readmePath = join(dir, name, 'README.md');
    if (!existsSync(readmePath)) continue;
    const before = readFileSync(readmePath, 'utf8');
    const after = before.replace(
      /<!-- include (\S+) -->\n```(\w*)\n[\s\S]*?```/g,
      (_, file, lang) =>
        `<!-- include ${file} -->\n\`\`\`${lang}\n${readFileSync(join(dir, name, file), 'utf8').trimEnd()}\n\`\`\``,
    );
    if (after !== before) {
      writeFileSync(readmePath, after);
      console.log(`updated ${base}/${name}/README.md`);
    }
  }
}
