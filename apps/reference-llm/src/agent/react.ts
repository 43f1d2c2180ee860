import type { ChatModel } from '@tessera/eval';
import { checkOptions } from '@tessera/tensor-webgpu';
import type { ChatMessage } from '@tessera/tokenizer';
import {
  type ToolCall,
  type ToolDefinition,
  Toolset,
  toolSignaturesPrompt,
} from '../serve/tools.js';
import {
  type ConversationWindow,
  checkAgentPrompt,
  type Exchange,
  fitConversation,
  renderConversation,
  type WindowFit,
} from './window.js';

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
  /** What the model read before writing this step (when the run had a window). */
  window?: WindowFit;
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

/** The ReAct instructions; the tools' signatures and the call format follow in the system message. */
export const REACT_INSTRUCTIONS = 'Think, then answer as "Answer: ..." or call a tool:';

/**
 * The agent's system message: {@link REACT_INSTRUCTIONS}, then the tools as signatures
 * (`toolSignaturesPrompt`), which take a fraction of the tokens of their JSON Schemas so that
 * the prompt fits a small model's window.
 */
export function agentPrompt(tools: readonly ToolDefinition[]): string {
  return `${REACT_INSTRUCTIONS}\n${toolSignaturesPrompt(tools)}`;
}

/**
 * A ReAct agent (Yao et al., 2023): the model writes a thought and a tool call, the tool's result
 * comes back as an observation, and so on until the model writes no call — its text is then the
 * answer (after "Answer:", when present) — or `maxSteps` model turns have passed. Tools are shown
 * as signatures ({@link agentPrompt}) and parsed exactly as the server does (`serve/tools.ts`:
 * Hermes-style `<tool_call>` JSON, arguments checked against each tool's JSON Schema); a call
 * that does not parse or fails comes back as an observation saying why, so the model can
 * correct it.
 *
 * With a `window`, the prompt must fit it (`checkAgentPrompt`: refused before any generation,
 * with the counts), and at each step the model reads the conversation fitted to it
 * (`fitConversation`: the oldest observations, then the oldest steps left out, the newest
 * observations cut); each step's `window` says what was left out. `messages` keeps everything.
 *
 * @throws RangeError - `maxSteps` is not a positive integer; the prompt does not fit the window
 */
export async function runAgent(
  model: ChatModel,
  question: string,
  tools: readonly AgentTool[],
  o: {
    maxSteps?: number;
    onStep?: (step: AgentStep, index: number) => void;
    window?: ConversationWindow;
  } = {},
): Promise<AgentRun> {
  checkOptions('runAgent', o, ['maxSteps', 'onStep', 'window']);
  const maxSteps = o.maxSteps ?? 6;
  if (!(Number.isInteger(maxSteps) && maxSteps >= 1))
    throw new RangeError(`runAgent: maxSteps must be a positive integer, got ${maxSteps}`);
  const toolset = new Toolset(tools.map((t) => t.definition));
  const head: ChatMessage[] = [
    { role: 'system', content: agentPrompt(toolset.tools) },
    { role: 'user', content: question },
  ];
  if (o.window) checkAgentPrompt(head, o.window);
  const exchanges: Exchange[] = [];
  const steps: AgentStep[] = [];
  const end = (answer: string | null, stoppedBy: AgentRun['stoppedBy']): AgentRun => ({
    question,
    answer,
    stoppedBy,
    steps,
    messages: renderConversation(head, exchanges),
  });
  for (let i = 0; i < maxSteps; i++) {
    const read = o.window
      ? fitConversation(head, exchanges, o.window)
      : { messages: renderConversation(head, exchanges), fit: undefined };
    const reply = await model.chat(read.messages);
    const parsed = toolset.parse(reply);
    const step: AgentStep = { thought: parsed.content.trim(), calls: [] };
    if (read.fit) step.window = read.fit;
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
    exchanges.push({ reply, observations });
    steps.push(step);
    o.onStep?.(step, i);
    if (observations.length === 0)
      return end(/Answer:\s*([\s\S]*)$/i.exec(step.thought)?.[1]?.trim() ?? step.thought, 'answer');
  }
  return end(null, 'step limit');
}

async function runCall(tools: readonly AgentTool[], call: ToolCall): Promise<string> {
  const tool = tools.find((t) => t.definition.function.name === call.function.name)!;
  try {
    return await tool.run(JSON.parse(call.function.arguments));
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}
