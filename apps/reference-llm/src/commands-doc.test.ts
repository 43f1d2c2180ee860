import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandsMarkdown, withCommands } from './commands-doc.js';
import { buildProgram } from './program.js';

describe('the README command reference', () => {
  it('is the one generated from the command definitions (run `npm run readme -w @tessera/reference-llm`)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(withCommands(readme, buildProgram())).toBe(readme);
  });

  it('lists every command and each option with its default and choices', () => {
    const md = commandsMarkdown(buildProgram());
    for (const name of ['pretrain', 'generate', 'eval', 'tasks', 'profile', 'scaling'])
      expect(md).toMatch(new RegExp(`\\| \\[\`${name}\`\\]\\(#${name}\\) +\\|`));
    expect(md).toMatch(
      /\| `--temperature <t>` +\| `0\.8` +\| softmax temperature; 0 is greedy +\|/,
    );
    expect(md).toMatch(/\| `--backend <kind>` +\| `"auto"` +\| .* \(auto, webgpu, wasm, cpu\) +\|/);
    // A command with subcommands is listed as its subcommands, arguments included.
    for (const name of ['train', 'predict', 'caption'])
      expect(md).toMatch(new RegExp(`\\| \\[\`vit ${name}\`\\]\\(#vit-${name}\\) +\\|`));
    expect(md).toContain('#### vit predict');
    expect(md).toMatch(/Argument `<image>`: a PNG file, or the index/);
    // Subcommands by their full name, with their own section.
    expect(md).toMatch(/\| \[`dllm train`\]\(#dllm-train\) +\|/);
    expect(md).toContain('#### dllm train');
    expect(md).not.toMatch(/\[`dllm`\]/);
    expect(md).toMatch(/\| \[`rag bench`\]\(#rag-bench\) +\|/);
    expect(md).toContain('#### rag query');
    expect(md).toMatch(/\| `--index <dir>` +\| +\| folder written by "rag index" +\|/);
    expect(() => withCommands('# no markers', buildProgram())).toThrow(/markers are missing/);
  });
});
