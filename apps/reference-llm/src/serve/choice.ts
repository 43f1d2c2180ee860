import type { StepToken } from '@tessera/sampler';
import type { EndReason } from './engine.js';
import { invalidRequest } from './errors.js';
import { JsonConstraint } from './json-constraint.js';
import type { ServedModel } from './models.js';
import {
  TOOL_CALL_OPEN,
  type ToolCall,
  type ToolChoice,
  type Toolset,
  toolCallId,
} from './tools.js';

/**
 * One choice of a completion: a sequence in the model's engine, turned into text as it is
 * generated. Text is released as soon as it cannot be part of a stop sequence (or of a tool
 * call's opening tag); tool calls are decoded under the tool's JSON grammar.
 */

/** What a choice samples with (OpenAI's parameters, already checked). */
export interface ChoiceSampling {
  temperature: number;
  topP?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  logitBias?: Record<number, number>;
  seed: number;
  /** Top alternatives to report per token; undefined for no log-probabilities. */
  logprobs?: number;
}

/** One choice to generate. */
export interface ChoiceSpec {
  /** The prompt, ending with the tool call's opening tag when a call is required (`promptFor`). */
  prompt: readonly number[];
  maxTokens: number;
  sampling: ChoiceSampling;
  /** Texts that end the choice (cut from it). */
  stop: readonly string[];
  /** Tools the model may call, and how (`none` is no tools). */
  tools?: { set: Toolset; choice: Exclude<ToolChoice, 'none'> };
  signal?: AbortSignal;
  deadline?: number;
}

/** A token with its log-probability, for `logprobs` in responses. */
export interface TokenInfo {
  token: string;
  bytes: number[];
  logprob: number;
  top: { token: string; bytes: number[]; logprob: number }[];
}

export type FinishReason = 'stop' | 'length' | 'tool_calls';

/** How a choice ended. */
export interface ChoiceResult {
  /** `undefined` when it did not finish: cancelled, timed out, or failed (`error`). */
  finishReason: FinishReason | undefined;
  ended: EndReason;
  error?: Error;
  /** The text of the reply (without stop sequences and tool calls). */
  text: string;
  toolCalls: ToolCall[];
  completionTokens: number;
  /** Log-probabilities of the generated tokens, when asked for. */
  tokens: TokenInfo[];
}

/** Where a choice's output goes. */
export interface ChoiceSink {
  /** A token was generated (for latency metrics). */
  token?(): void;
  /** New text (possibly empty when only tokens arrived), and the tokens generated since the last call. */
  text(delta: string, tokens: TokenInfo[]): void;
  end(result: ChoiceResult): void;
}

/**
 * The prompt of a choice: the conversation's, and when a call is required (`required` or a named
 * function), the opening tag of the call, which the reply then continues under the grammar.
 */
export function promptFor(
  model: ServedModel,
  prompt: readonly number[],
  tools: ChoiceSpec['tools'],
): number[] {
  if (!tools || tools.choice === 'auto') return [...prompt];
  return [...prompt, ...model.tokenizer.encode(`${TOOL_CALL_OPEN}\n`, { disallowedSpecial: [] })];
}

/**
 * Starts a choice in the model's engine; output goes to `sink`. Throws what `Engine.submit`
 * throws (a full queue; a prompt and completion longer than the window), a 400 `ApiError` when a
 * required tool call cannot fit in `maxTokens`, and a `SchemaError` when its schema cannot be
 * constrained.
 */
export function startChoice(model: ServedModel, spec: ChoiceSpec, sink: ChoiceSink): void {
  const { tokenizer, format } = model;
  const decoder = tokenizer.streamDecoder();
  const stopIds = new Set(format.stopTokenIds);
  const forced = spec.tools && spec.tools.choice !== 'auto' ? spec.tools : undefined;
  let constraint: JsonConstraint | undefined;
  if (forced) {
    constraint = new JsonConstraint(
      forced.set.grammar(forced.choice as 'required'),
      model.vocabulary,
    );
    if (constraint.shortest > spec.maxTokens)
      throw invalidRequest(
        `max_tokens ${spec.maxTokens} is too small for the tool call: its shortest JSON takes ${constraint.shortest} tokens`,
        'max_tokens',
      );
  }
  const holdBack = [...spec.stop, ...(spec.tools?.choice === 'auto' ? [TOOL_CALL_OPEN] : [])];
  let raw = ''; // every character decoded so far
  let sent = 0; // characters of `raw` released to the sink
  let stopAt: number | undefined; // where a stop sequence begins in `raw`
  let callStart: number | undefined; // where the model opened a tool call in `raw`
  let finish: FinishReason | undefined;
  let generated = 0;
  let pending: TokenInfo[] = []; // log-probabilities not yet sent with text
  const tokens: TokenInfo[] = [];

  const info = (id: number, logprob: number) => ({
    token: tokenizer.decode([id]),
    bytes: Array.from(tokenizer.tokenBytes(id)),
    logprob,
  });

  /** Sends the text up to `upTo` (never into a tool call: that comes as `tool_calls`). */
  const release = (upTo: number) => {
    const end = Math.max(Math.min(upTo, callStart ?? upTo), sent);
    if (end > sent || pending.length) sink.text(raw.slice(sent, end), pending);
    sent = end;
    pending = [];
  };

  const onToken = (t: StepToken): boolean => {
    generated++;
    sink.token?.();
    if (stopIds.has(t.token)) return false;
    if (t.logprob !== undefined) {
      const entry = {
        ...info(t.token, t.logprob),
        top: (t.topLogprobs ?? []).map((a) => info(a.token, a.logprob)),
      };
      pending.push(entry);
      tokens.push(entry);
    }
    if (constraint) {
      constraint.advance(t.token);
      if (constraint.done) {
        finish = 'tool_calls';
        return false;
      }
      return true;
    }
    raw += decoder.push(t.token);
    if (spec.tools?.choice === 'auto' && callStart === undefined) {
      const open = raw.indexOf(TOOL_CALL_OPEN);
      if (open >= 0) {
        callStart = open;
        const after = raw.slice(open + TOOL_CALL_OPEN.length);
        constraint = triggered(model, spec.tools.set, after, spec.maxTokens - generated);
        release(open);
        return true;
      }
    }
    const stop = firstStop(raw, spec.stop, Math.max(0, sent - longest(spec.stop)));
    if (stop !== undefined) {
      stopAt = stop;
      release(stop);
      finish = 'stop';
      return false;
    }
    release(raw.length - partialSuffix(raw, holdBack));
    return true;
  };

  const onEnd = (ended: EndReason, error?: Error) => {
    if (stopAt === undefined) raw += decoder.end();
    const calls: ToolCall[] = [];
    if (constraint?.done) {
      const call = JSON.parse(constraint.text) as { name: string; arguments: unknown };
      const invalid = spec.tools!.set.check(call.name, call.arguments);
      if (invalid) error = new Error(`constrained decoding gave an invalid call: ${invalid}`);
      else
        calls.push({
          id: toolCallId(),
          type: 'function',
          function: { name: call.name, arguments: JSON.stringify(call.arguments) },
        });
    } else if (callStart !== undefined) {
      // A call the model wrote without the grammar (it could not fit): kept if valid, else text.
      const parsed = spec.tools!.set.parse(raw.slice(callStart, stopAt));
      if (parsed.calls.length) calls.push(parsed.calls[0]!);
      else callStart = undefined;
    }
    const text = raw.slice(0, Math.min(callStart ?? raw.length, stopAt ?? raw.length));
    if (ended === 'stop' || ended === 'length') release(text.length);
    const finishReason =
      ended === 'stop' || ended === 'length'
        ? calls.length
          ? 'tool_calls'
          : (finish ?? ended)
        : undefined;
    sink.end({
      finishReason: error ? undefined : finishReason,
      ended: error ? 'error' : ended,
      error,
      text,
      toolCalls: calls,
      completionTokens: generated,
      tokens,
    });
  };

  const { sampling } = spec;
  const budget = (step: number) => spec.maxTokens - step;
  model.engine.submit({
    prompt: spec.prompt,
    maxTokens: spec.maxTokens,
    options: {
      temperature: sampling.temperature,
      topP: sampling.topP,
      presencePenalty: sampling.presencePenalty,
      frequencyPenalty: sampling.frequencyPenalty,
      logitBias: sampling.logitBias,
      seed: sampling.seed,
      logprobs: sampling.logprobs,
      stopTokenIds: format.stopTokenIds,
      mask: spec.tools ? (logits, ctx) => constraint?.mask(logits, budget(ctx.step)) : undefined,
    },
    signal: spec.signal,
    deadline: spec.deadline,
    onToken,
    onEnd,
  });
}

/**
 * After the model wrote `<tool_call>` by itself (`auto`), the rest of the call is constrained to
 * the tools' grammar — if what followed the tag so far fits it and the call can still finish in
 * the `left` tokens; otherwise the call is left free (and parsed, or left in the text, at the end).
 */
function triggered(model: ServedModel, set: Toolset, after: string, left: number) {
  const c = new JsonConstraint(set.grammar('required'), model.vocabulary, {
    leadingWhitespace: 2,
  });
  const fits = c.advanceBytes(new TextEncoder().encode(after)) && c.shortest <= left;
  return fits ? c : undefined;
}

const longest = (texts: readonly string[]) => Math.max(0, ...texts.map((t) => t.length));

/** Where the first stop sequence starts in `text` (searching from `from`), if any. */
function firstStop(text: string, stops: readonly string[], from: number): number | undefined {
  let first: number | undefined;
  for (const s of stops) {
    const at = text.indexOf(s, from);
    if (at >= 0 && (first === undefined || at < first)) first = at;
  }
  return first;
}

/** Length of the longest end of `text` that begins one of `texts` (held back until it resolves). */
function partialSuffix(text: string, texts: readonly string[]): number {
  let n = 0;
  for (const t of texts)
    for (let k = Math.min(t.length - 1, text.length); k > n; k--)
      if (text.endsWith(t.slice(0, k))) {
        n = k;
        break;
      }
  return n;
}
