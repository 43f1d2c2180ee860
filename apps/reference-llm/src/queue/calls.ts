import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { ChatMessage, ChatModel, LanguageModel } from '@tessera/eval';
import type { Device } from '@tessera/tensor-webgpu';
import { asLanguageModel } from '../language-model.js';
import { loadCheckpoint } from '../load.js';
import { endpointJudge } from '../pipeline/judge.js';
import { FILES, readCheckpoint } from '../run-folder.js';

/**
 * One call an evaluation makes of a model or a judge: what a job queue carries to a worker. Each
 * is plain JSON, names its checkpoint (an absolute folder path every worker reads, and the
 * SHA-256 of the weights it held when the evaluation began, so that a checkpoint retrained in
 * place is neither answered from an older job nor from a worker's older copy) or its judge
 * endpoint, and has one answer, so the same call always gives the same result.
 */
export type ModelCall =
  | {
      kind: 'logLikelihood';
      checkpoint: string;
      weights: string;
      context: string;
      continuation: string;
    }
  | {
      kind: 'generate';
      checkpoint: string;
      weights: string;
      prompt: string;
      maxTokens: number;
      stop: readonly string[];
    }
  | { kind: 'judge'; url: string; model: string; messages: ChatMessage[] };

/** A log-likelihood (natural log) or a generated text. */
export type CallResult = number | string;

/** Where calls run: in this process (`localCalls`) or on a job queue's workers (`queueCalls`). */
export interface Calls {
  run(call: ModelCall): Promise<CallResult>;
  /** Frees what the calls hold (models, connections). */
  close(): Promise<void>;
}

/** A call's identity: the SHA-256 of its JSON, so that equal calls share one result. */
export function callId(call: ModelCall): string {
  return createHash('sha256').update(JSON.stringify(call)).digest('hex');
}

/** Checkpoints a worker keeps loaded (an evaluation reads one or two: the model, the one it is judged against). */
const LOADED = 2;

/**
 * Runs calls in this process: a model call through the checkpoint's `asLanguageModel` (loaded on
 * first use, the last `LOADED` kept), one model call at a time on `device` (calls interleaved on
 * one device would share its queue); a judge call through `endpointJudge`, any number at once.
 */
export function localCalls(device: Device): Calls {
  const models = new Map<string, { lm: LanguageModel; dispose: () => void }>();
  const judges = new Map<string, Promise<ChatModel>>();
  let turn: Promise<unknown> = Promise.resolve();
  const model = ({ checkpoint, weights }: { checkpoint: string; weights: string }) => {
    const key = `${checkpoint} ${weights}`;
    let loaded = models.get(key);
    if (!loaded) {
      const now = checkpointWeights(checkpoint);
      if (now !== weights)
        throw new Error(
          `${checkpoint}: holds the weights ${now.slice(0, 12)}, not the ${weights.slice(0, 12)} the evaluation began with (retrained since?); run the evaluation again`,
        );
      const { model, tokenizer } = loadCheckpoint(checkpoint, device);
      loaded = {
        lm: asLanguageModel(model, tokenizer, checkpoint),
        dispose: () => model.dispose(),
      };
      models.set(key, loaded);
      for (const [dir, old] of models)
        if (models.size > LOADED) {
          old.dispose();
          models.delete(dir);
        }
    }
    return loaded.lm;
  };
  const onDevice = <R>(fn: () => Promise<R> | R): Promise<R> => {
    const result = turn.then(fn);
    turn = result.catch(() => {});
    return result;
  };
  return {
    run(call) {
      switch (call.kind) {
        case 'logLikelihood':
          return onDevice(() => model(call).logLikelihood(call.context, call.continuation));
        case 'generate':
          return onDevice(() =>
            model(call).generate(call.prompt, {
              maxTokens: call.maxTokens,
              stop: call.stop,
            }),
          );
        case 'judge': {
          const key = `${call.url} ${call.model}`;
          if (!judges.has(key))
            judges.set(key, endpointJudge({ url: call.url, model: call.model }));
          return judges.get(key)!.then((judge) => judge.chat(call.messages));
        }
      }
    },
    async close() {
      await turn;
      for (const { dispose } of models.values()) dispose();
      models.clear();
    },
  };
}

/** The SHA-256 of a checkpoint's weights, as its run folder records it. */
export function checkpointWeights(dir: string): string {
  return readCheckpoint(dir).state.files[FILES.model]!;
}

/**
 * A checkpoint as the benchmark runner's `LanguageModel`, every call run by `calls`: the calls
 * name the folder by its absolute path (a worker may run elsewhere) and the weights it holds at
 * the first call (`checkpointWeights`).
 */
export function callLanguageModel(calls: Calls, checkpoint: string): LanguageModel {
  const folder = resolve(checkpoint);
  let held: string | undefined;
  // Read at the first call, so that a missing checkpoint fails that call (and the ones after it).
  const weights = () => (held ??= checkpointWeights(folder));
  return {
    id: checkpoint,
    logLikelihood: async (context, continuation) =>
      (await calls.run({
        kind: 'logLikelihood',
        checkpoint: folder,
        weights: weights(),
        context,
        continuation,
      })) as number,
    generate: async (prompt, { maxTokens, stop }) =>
      (await calls.run({
        kind: 'generate',
        checkpoint: folder,
        weights: weights(),
        prompt,
        maxTokens,
        stop,
      })) as string,
  };
}

/** The judge `model` at the OpenAI-compatible endpoint `url` as a `ChatModel`, every call run by `calls`. */
export function callChatModel(calls: Calls, url: string, model: string): ChatModel {
  return {
    id: model,
    chat: async (messages) => (await calls.run({ kind: 'judge', url, model, messages })) as string,
  };
}
