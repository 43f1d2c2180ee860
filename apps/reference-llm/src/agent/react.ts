import type { ChatModel } from '@tessera/eval';
import type { ChatMessage } from '@tessera/tokenizer';
import {
  formatToolResult,
  type ToolCall,
  type ToolDefinition,
  Toolset,
  toolsPrompt,
} from '../serve/tools.js';

/** A tool the agent may call: its definition as the serving API takes it, and what it does. */
export interface AgentTool {
  definition: ToolDefinition;
  /** Runs the call with its (schema-checked) arguments; the text returned is the observation. */
  run(args: Record<string, unknown>): string | Promise<string>;
}

/** One step of the loop: what the model wrote, the calls it made and what they returned. */
export interface AgentStep {
  /** The model's text outside its tool calls (its thought, or the final answer). */
  thought: string;
  calls: { name: string; arguments: unknown; observation: string }[];
}

/** How a run ended, with every step and the whole conversation (the transcript). */
export interface AgentRun {
  question: string;
  /** The final answer, or null when the step limit came first. */
  answer: string | null;
  stoppedBy: 'answer' | 'step limit';
  steps: AgentStep[];
  messages: ChatMessage[];
}

/** The ReAct instructions that precede the tools' signatures in the system message. */
export const REACT_INSTRUCTIONS =
  'Answer the question. Think step by step: write a short thought, then call one tool and wait for its result, or give the final answer as "Answer: ...".';

/**
 * A ReAct agent (Yao et al., 2023): the model writes a thought and a tool call, the tool's result
 * comes back as an observation, and so on until the model writes no call — its text is then the
 * answer (after "Answer:", when present) — or `maxSteps` model turns have passed. Tools are shown
 * and parsed exactly as the server does (`serve/tools.ts`: Hermes-style `<tool_call>` JSON,
 * arguments checked against each tool's JSON Schema); a call that does not parse or fails comes
 * back as an observation saying why, so the model can correct it.
 *
 * @throws RangeError - `maxSteps` is not a positive integer
 */
export async function runAgent(
  model: ChatModel,
  question: string,
  tools: readonly AgentTool[],
  o: { maxSteps?: number; onStep?: (step: AgentStep, index: number) => void } = {},
): Promise<AgentRun> {
  const maxSteps = o.maxSteps ?? 6;
  if (!(Number.isInteger(maxSteps) && maxSteps >= 1))
    throw new RangeError(`runAgent: maxSteps must be a positive integer, got ${maxSteps}`);
  const toolset = new Toolset(tools.map((t) => t.definition));
  const messages: ChatMessage[] = [
    { role: 'system', content: `${REACT_INSTRUCTIONS}\n${toolsPrompt(toolset.tools)}` },
    { role: 'user', content: question },
  ];
  const steps: AgentStep[] = [];
  for (let i = 0; i < maxSteps; i++) {
    const reply = await model.chat(messages);
    const parsed = toolset.parse(reply);
    messages.push({ role: 'assistant', content: reply });
    const step: AgentStep = { thought: parsed.content.trim(), calls: [] };
    const observations = parsed.errors.map((e) => `error: ${e}`);
    for (const call of parsed.calls) {
      const observation = await runCall(tools, call);
      step.calls.push({
        name: call.function.name,
        arguments: JSON.parse(call.function.arguments),
        observation,
      });
      observations.push(observation);
    }
    steps.push(step);
    o.onStep?.(step, i);
    if (observations.length === 0) {
      const answer = /Answer:\s*([\s\S]*)$/i.exec(step.thought)?.[1]?.trim() ?? step.thought;
      return { question, answer, stoppedBy: 'answer', steps, messages };
    }
    for (const observation of observations)
      messages.push({ role: 'tool', content: formatToolResult(observation) });
  }
  return { question, answer: null, stoppedBy: 'step limit', steps, messages };
}

async function runCall(tools: readonly AgentTool[], call: ToolCall): Promise<string> {
  const tool = tools.find((t) => t.definition.function.name === call.function.name)!;
  try {
    return await tool.run(JSON.parse(call.function.arguments));
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}
