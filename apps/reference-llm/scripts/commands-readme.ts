// Regenerates the command reference in README.md from the command definitions (src/commands/).
// src/commands-doc.test.ts fails when the README is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { withCommands } from '../src/commands-doc.js';
import { buildProgram } from '../src/program.js';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withCommands(readFileSync(path, 'utf8'), buildProgram()));
