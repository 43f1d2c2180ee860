import type { Retriever } from '@tessera/rag';
import { calculate } from './calculator.js';
import type { AgentTool } from './react.js';

/**
 * `calculator`: evaluates an arithmetic expression (`calculate`: numbers, + - * / % ^ and
 * parentheses). No description: its signature says what it does, in fewer of the window's tokens.
 */
export const calculatorTool: AgentTool = {
  definition: {
    type: 'function',
    function: {
      name: 'calculator',
      parameters: {
        type: 'object',
        properties: { expression: { type: 'string' } },
        required: ['expression'],
        additionalProperties: false,
      },
    },
  },
  run: ({ expression }) => String(calculate(expression as string)),
};

/**
 * `search`: the top `k` passages of a RAG index for a query, numbered, each with its source and
 * span (`[1] play.txt:120-410 text`), so the answer can cite them. No description, as above.
 */
export function searchTool(retriever: Retriever, k = 3): AgentTool {
  return {
    definition: {
      type: 'function',
      function: {
        name: 'search',
        parameters: {
          type: 'object',
          properties: { query: { type: 'string', minLength: 1 } },
          required: ['query'],
          additionalProperties: false,
        },
      },
    },
    run: async ({ query }) => {
      const hits = await retriever.search(query as string, k);
      if (hits.length === 0) return 'no passages found';
      return hits
        .map((h, i) => {
          const span = h.start === undefined ? '' : `:${h.start}-${h.end}`;
          return `[${i + 1}] ${h.sourceId ?? h.id}${span} ${h.text}`;
        })
        .join('\n');
    },
  };
}
