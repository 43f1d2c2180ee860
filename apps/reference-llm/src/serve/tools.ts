import { randomBytes } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import { compileSchema, type GrammarNode, SchemaError } from './json-grammar.js';

/**
 * Tool calling, in one place for the server and the agent: how tools are shown to the model, how
 * the model's calls are written and parsed, argument validation (ajv), and the grammar that
 * constrains a call's JSON when the caller requires one.
 *
 * The text format is Hermes / Qwen 2.5's, which chat models are commonly tuned on:
 *
 *     <tool_call>
 *     {"name":"get_weather","arguments":{"city":"Paris"}}
 *     </tool_call>
 */

/** A function tool, as OpenAI's `tools[i]` gives it. */
export interface ToolDefinition {
  type: 'function';
  function: {
    name: string;
    description?: string;
    /** JSON Schema of the arguments object (default: any object). */
    parameters?: Record<string, unknown>;
    strict?: boolean | null;
  };
}

/** OpenAI's `tool_choice`. */
export type ToolChoice =
  | 'none'
  | 'auto'
  | 'required'
  | { type: 'function'; function: { name: string } };

/** A call the model made, as OpenAI's `message.tool_calls[i]` gives it. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** Where a call starts and ends in the model's text. */
export const TOOL_CALL_OPEN = '<tool_call>';
export const TOOL_CALL_CLOSE = '</tool_call>';

/** The system text that shows the model its tools. */
export function toolsPrompt(tools: readonly ToolDefinition[]): string {
  return [
    'You can call functions. Their signatures, as JSON Schema:',
    '<tools>',
    ...tools.map((t) => JSON.stringify(t)),
    '</tools>',
    'To call one, reply with its name and arguments as JSON between tags:',
    TOOL_CALL_OPEN,
    '{"name":"<function name>","arguments":{<arguments>}}',
    TOOL_CALL_CLOSE,
  ].join('\n');
}

/**
 * The tools in few tokens, for a model with a short window (the agent's): a signature a line
 * (`toolSignature`), then the format of a call, to follow an instruction such as "call a tool:".
 * The tools' JSON Schemas in full (`toolsPrompt`) take several times the tokens.
 */
export function toolSignaturesPrompt(tools: readonly ToolDefinition[]): string {
  return [
    ...tools.map(toolSignature),
    TOOL_CALL_OPEN,
    '{"name":"<tool>","arguments":{...}}',
    TOOL_CALL_CLOSE,
  ].join('\n');
}

/**
 * A tool as a TypeScript-like signature read from its JSON Schema,
 * `name(arg: type, optional?: type) - description`: types, unions, enums and consts, arrays
 * (`string[]`); an argument not required gets `?`, a nested object is `object`. Constraints the
 * signature does not show (`minLength`, patterns, ...) are still checked when a call is parsed.
 */
export function toolSignature(tool: ToolDefinition): string {
  const { name, description, parameters = {} } = tool.function;
  const properties = (parameters.properties ?? {}) as Record<string, unknown>;
  const required = new Set(Array.isArray(parameters.required) ? parameters.required : []);
  const args = Object.entries(properties).map(
    ([arg, schema]) => `${arg}${required.has(arg) ? '' : '?'}: ${typeOfSchema(schema)}`,
  );
  return `${name}(${args.join(', ')})${description ? ` - ${description}` : ''}`;
}

/** A JSON Schema's type as TypeScript writes it: `string`, `"a" | "b"`, `number[]`, `any`. */
function typeOfSchema(schema: unknown): string {
  if (typeof schema !== 'object' || schema === null) return 'any';
  const s = schema as Record<string, unknown>;
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = s.anyOf ?? s.oneOf;
  if (Array.isArray(union)) return union.map(typeOfSchema).join(' | ');
  if (Array.isArray(s.type)) return s.type.map((type) => typeOfSchema({ ...s, type })).join(' | ');
  if (s.type === 'array') {
    const item = typeOfSchema(s.items ?? {});
    return item.includes(' | ') ? `(${item})[]` : `${item}[]`;
  }
  return typeof s.type === 'string' ? s.type : 'any';
}

/** A call as the model writes it (assistant messages of the history are rendered this way). */
export function formatToolCall(call: { name: string; arguments: unknown }): string {
  return `${TOOL_CALL_OPEN}\n${JSON.stringify({ name: call.name, arguments: call.arguments })}\n${TOOL_CALL_CLOSE}`;
}

/** A tool result as the model reads it (the content of a `tool` message). */
export function formatToolResult(content: string): string {
  return `<tool_response>\n${content}\n</tool_response>`;
}

/** A fresh call id, `call_` and 24 random base-62 characters (OpenAI's shape). */
export function toolCallId(): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  return `call_${Array.from(randomBytes(24), (b) => alphabet[b % 62]).join('')}`;
}

/** What `parseToolCalls` found: the text outside the calls, the calls, and why any was refused. */
export interface ParsedToolCalls {
  content: string;
  calls: ToolCall[];
  /** Why a block was not a valid call (its text is then left in `content`); empty when all were. */
  errors: string[];
}

/**
 * A request's tools, compiled: argument validators (ajv) and grammars for constrained decoding.
 * Throws a `SchemaError` naming `tools[i].function.parameters` for a schema ajv cannot compile.
 */
export class Toolset {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly tools: readonly ToolDefinition[]) {
    const ajv = new Ajv({ strict: false, allErrors: false });
    tools.forEach((t, i) => {
      const name = t.function.name;
      if (this.validators.has(name))
        throw new SchemaError(`tools[${i}].function.name "${name}" is given twice`);
      try {
        this.validators.set(name, ajv.compile(t.function.parameters ?? { type: 'object' }));
      } catch (e) {
        throw new SchemaError(
          `tools[${i}].function.parameters is not a valid JSON Schema (${(e as Error).message})`,
        );
      }
    });
  }

  /** The tool named `name`, or undefined. */
  find(name: string): ToolDefinition | undefined {
    return this.tools.find((t) => t.function.name === name);
  }

  /** Why `args` are not valid arguments of `name`, or undefined when they are. */
  check(name: string, args: unknown): string | undefined {
    const validate = this.validators.get(name);
    if (!validate) return `the model called "${name}", which is not one of the tools`;
    if (validate(args)) return undefined;
    const e = validate.errors?.[0];
    return `arguments of "${name}" do not fit its parameters: ${e ? `${e.instancePath || '(root)'} ${e.message}` : 'invalid'}`;
  }

  /**
   * Splits the model's text into content and calls. A `<tool_call>` block (its closing tag may
   * be missing at the end of the text) holding `{"name", "arguments"}` of a tool with valid
   * arguments becomes a call with a fresh id; any other block stays in the content, with the
   * reason in `errors`.
   */
  parse(text: string): ParsedToolCalls {
    const calls: ToolCall[] = [];
    const errors: string[] = [];
    let content = '';
    let at = 0;
    for (;;) {
      const open = text.indexOf(TOOL_CALL_OPEN, at);
      if (open < 0) break;
      const from = open + TOOL_CALL_OPEN.length;
      const close = text.indexOf(TOOL_CALL_CLOSE, from);
      const end = close < 0 ? text.length : close + TOOL_CALL_CLOSE.length;
      const call = this.callOf(text.slice(from, close < 0 ? text.length : close));
      if (typeof call === 'string') {
        errors.push(call);
        content += text.slice(at, end);
      } else {
        calls.push(call);
        content += text.slice(at, open);
      }
      at = end;
    }
    content += text.slice(at);
    return { content: calls.length ? content.trim() : content, calls, errors };
  }

  private callOf(json: string): ToolCall | string {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (e) {
      return `a tool call is not JSON (${(e as Error).message})`;
    }
    const { name, arguments: args } = (value ?? {}) as { name?: unknown; arguments?: unknown };
    if (typeof name !== 'string') return 'a tool call has no "name" string';
    const parsed = typeof args === 'string' ? safeParse(args) : (args ?? {});
    const error = this.check(name, parsed);
    if (error) return error;
    return {
      id: toolCallId(),
      type: 'function',
      function: { name, arguments: JSON.stringify(parsed) },
    };
  }

  /**
   * The grammar of a call's JSON under `choice` (`required`: any tool; a named function: that
   * one): `{"name":<the name>,"arguments":<its parameters>}`. Throws a `SchemaError` naming the
   * tool's parameters when their schema cannot be constrained.
   */
  grammar(choice: 'required' | { function: { name: string } }): GrammarNode {
    const tools =
      choice === 'required'
        ? this.tools
        : this.tools.filter((t) => t.function.name === choice.function.name);
    const options = tools.map((t) => {
      const i = this.tools.indexOf(t);
      const schema = {
        type: 'object',
        properties: {
          name: { const: t.function.name },
          arguments: t.function.parameters ?? { type: 'object' },
        },
        required: ['name', 'arguments'],
      };
      try {
        return compileSchema(schema, `tools[${i}].function`);
      } catch (e) {
        throw new SchemaError((e as Error).message.replace('.properties.arguments', '.parameters'));
      }
    });
    return options.length === 1 ? options[0]! : { kind: 'anyOf', options };
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
