#!/usr/bin/env node
/**
 * reference-llm: pretrain a small GPT on Shakespeare with the Tessera packages, sample from it,
 * evaluate it.  reference-llm <command> [options]  (reference-llm <command> --help for each)
 */
import { buildProgram } from './program.js';

buildProgram()
  .parseAsync(process.argv)
  .catch((e: Error) => {
    console.error(`reference-llm: ${e.message}`);
    process.exit(1);
  });
