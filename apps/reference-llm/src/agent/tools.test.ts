import { chunkText, Retriever } from '@tessera/rag';
import { describe, expect, it } from 'vitest';
import { Toolset } from '../serve/tools.js';
import { calculatorTool, searchTool } from './tools.js';

describe('agent tools', () => {
  it('calculator evaluates the expression its schema asks for', async () => {
    expect(await calculatorTool.run({ expression: '(2 + 3) * 4' })).toBe('20');
    const set = new Toolset([calculatorTool.definition]);
    expect(set.check('calculator', { expression: '1' })).toBeUndefined();
    expect(set.check('calculator', { expr: '1' })).toMatch(/do not fit its parameters/);
  });

  it('search returns numbered passages with their sources and spans', async () => {
    const text =
      'ROMEO:\nBut soft, what light through yonder window breaks?\n\nJULIET:\nO Romeo, Romeo, wherefore art thou Romeo?';
    const retriever = new Retriever();
    await retriever.add(chunkText('play.txt', text, { chunkSize: 60 }));
    const out = await searchTool(retriever, 1).run({ query: 'light through the window' });
    const end = text.indexOf('\n\n');
    expect(out).toBe(`[1] play.txt:0-${end} ${text.slice(0, end)}`);
    expect(await searchTool(retriever).run({ query: 'zebra' })).toBe('no passages found');
  });

  it('search refuses an empty query by its schema and a blank one by the retriever', async () => {
    const retriever = new Retriever();
    await retriever.add(chunkText('play.txt', 'ROMEO:\nBut soft!'));
    const tool = searchTool(retriever);
    expect(new Toolset([tool.definition]).check('search', { query: '' })).toBe(
      'arguments of "search" do not fit its parameters: /query must NOT have fewer than 1 characters',
    );
    await expect(tool.run({ query: ' \n' })).rejects.toThrow(
      'Retriever.search: query must be text that is not empty or only whitespace, got " \\n"',
    );
  });
});
