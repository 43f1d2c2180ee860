import { describe, expect, it } from 'vitest';
import { compileSchema } from './json-grammar.js';
import {
  formatToolCall,
  formatToolResult,
  type ToolDefinition,
  Toolset,
  toolCallId,
  toolSignature,
  toolSignaturesPrompt,
  toolsPrompt,
} from './tools.js';

const add: ToolDefinition = {
  type: 'function',
  function: {
    name: 'add',
    description: 'Adds two integers',
    parameters: {
      type: 'object',
      properties: { a: { type: 'integer' }, b: { type: 'integer' } },
      required: ['a', 'b'],
      additionalProperties: false,
    },
  },
};
const ping: ToolDefinition = { type: 'function', function: { name: 'ping' } };
const set = new Toolset([add, ping]);

describe('Toolset', () => {
  it('parses the calls a model writes; the text around them is the content', () => {
    const text = `Adding.\n${formatToolCall({ name: 'add', arguments: { a: 1, b: 2 } })}\n${formatToolCall({ name: 'ping', arguments: {} })}`;
    const parsed = set.parse(text);
    expect(parsed.content).toBe('Adding.');
    expect(parsed.errors).toEqual([]);
    expect(parsed.calls.map((c) => c.function)).toEqual([
      { name: 'add', arguments: '{"a":1,"b":2}' },
      { name: 'ping', arguments: '{}' },
    ]);
    expect(new Set(parsed.calls.map((c) => c.id)).size).toBe(2);
    // Arguments given as a JSON string, and a call whose closing tag never came.
    expect(
      set.parse('<tool_call>{"name":"add","arguments":"{\\"a\\":1,\\"b\\":5}"}').calls[0]!.function
        .arguments,
    ).toBe('{"a":1,"b":5}');
  });

  it('leaves an invalid call in the content and says why (ajv checks the arguments)', () => {
    const cases: [string, RegExp][] = [
      [
        '<tool_call>{"name":"add","arguments":{"a":1}}</tool_call>',
        /arguments of "add" do not fit its parameters: \(root\) must have required property 'b'/,
      ],
      ['<tool_call>{"name":"add","arguments":{"a":1,"b":"2"}}</tool_call>', /\/b must be integer/],
      [
        '<tool_call>{"name":"mul","arguments":{}}</tool_call>',
        /the model called "mul", which is not one of the tools/,
      ],
      ['<tool_call>{"name":"add",</tool_call>', /a tool call is not JSON/],
      ['<tool_call>[1]</tool_call>', /a tool call has no "name" string/],
    ];
    for (const [text, why] of cases) {
      const parsed = set.parse(`Hm. ${text}`);
      expect(parsed.calls).toEqual([]);
      expect(parsed.content).toBe(`Hm. ${text}`);
      expect(parsed.errors[0]).toMatch(why);
    }
  });

  it("builds the grammar of a call: a named tool's, or any tool's for required", () => {
    expect(set.grammar({ function: { name: 'add' } })).toEqual(
      compileSchema(
        {
          type: 'object',
          properties: { name: { const: 'add' }, arguments: add.function.parameters },
          required: ['name', 'arguments'],
        },
        'tools[0].function',
      ),
    );
    expect(set.grammar('required')).toMatchObject({
      kind: 'anyOf',
      options: [{ kind: 'object' }, { kind: 'object' }],
    });
    const bad = new Toolset([
      {
        type: 'function',
        function: {
          name: 'x',
          parameters: { type: 'object', properties: { y: { allOf: [{ type: 'string' }] } } },
        },
      },
    ]);
    expect(() => bad.grammar('required')).toThrow(
      'tools[0].function.parameters.properties.y uses "allOf"',
    );
  });

  it('refuses a schema ajv cannot compile and a name given twice', () => {
    expect(
      () =>
        new Toolset([
          { type: 'function', function: { name: 'x', parameters: { type: 'nonsense' } } },
        ]),
    ).toThrow(/tools\[0\]\.function\.parameters is not a valid JSON Schema/);
    expect(() => new Toolset([ping, ping])).toThrow('tools[1].function.name "ping" is given twice');
  });
});

describe('the tool-call text format', () => {
  it('shows every tool to the model and the format to call one', () => {
    const prompt = toolsPrompt([add, ping]);
    expect(prompt).toContain(JSON.stringify(add));
    expect(prompt).toContain(JSON.stringify(ping));
    expect(prompt).toMatch(
      /<tool_call>\n\{"name":"<function name>","arguments":\{<arguments>\}\}\n<\/tool_call>$/,
    );
    expect(formatToolResult('42')).toBe('<tool_response>\n42\n</tool_response>');
    expect(toolCallId()).toMatch(/^call_[0-9A-Za-z]{24}$/);
  });

  it('writes each tool as a signature read from its JSON Schema, in a fraction of the text', () => {
    expect(toolSignature(add)).toBe('add(a: integer, b: integer) - Adds two integers');
    expect(toolSignature(ping)).toBe('ping()');
    const search: ToolDefinition = {
      type: 'function',
      function: {
        name: 'search',
        parameters: {
          type: 'object',
          properties: {
            query: { type: 'string', minLength: 1 },
            k: { type: ['integer', 'null'] },
            mode: { enum: ['bm25', 'dense'] },
            tags: { type: 'array', items: { anyOf: [{ type: 'string' }, { const: 1 }] } },
            filter: { type: 'object', properties: { year: { type: 'integer' } } },
            raw: {},
          },
          required: ['query'],
        },
      },
    };
    expect(toolSignature(search)).toBe(
      'search(query: string, k?: integer | null, mode?: "bm25" | "dense", tags?: (string | 1)[], filter?: object, raw?: any)',
    );
    const prompt = toolSignaturesPrompt([add, ping]);
    expect(prompt).toBe(
      [
        'add(a: integer, b: integer) - Adds two integers',
        'ping()',
        '<tool_call>',
        '{"name":"<tool>","arguments":{...}}',
        '</tool_call>',
      ].join('\n'),
    );
    expect(prompt.length).toBeLessThan(toolsPrompt([add, ping]).length / 2);
  });
});
