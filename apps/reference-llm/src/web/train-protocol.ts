import type { TrainState } from './train-checkpoint.js';

/** The sample's settings the page offers, as `generateText` takes them. */
export interface SampleSettings {
  /** Tokens to sample after training. */
  maxNewTokens: number;
  /** Sampling temperature (0 is greedy). */
  temperature: number;
  /** Keep the k most likely tokens (0: all). */
  topK: number;
  /** Nucleus sampling: the smallest set of tokens whose probability reaches p (1: all). */
  topP: number;
  /** The sampler's seed. */
  seed: number;
}

/**
 * What the training page sends its worker: train (a new run, or resume the saved one), stop
 * (after the step under way, saving a checkpoint), or inspect the saved checkpoint.
 */
export type TrainRequest =
  | {
      type: 'train';
      /** Continue the saved checkpoint instead of starting a new run. */
      resume: boolean;
      /** Optimizer steps of the tiny preset (a resumed run keeps its own). */
      steps: number;
      /** The sample's prompt. */
      prompt: string;
      /** How to sample after training: `@tessera/sampler`'s settings. */
      sampling: SampleSettings;
    }
  | { type: 'stop' }
  /** Report what is saved (`stored`), without training. */
  | { type: 'inspect' };

/**
 * What the worker posts back, in order: ready (with the saved state when resuming), one step per
 * optimizer step, then saved (a checkpoint written, at a stop and at the end) and, when the run
 * completed, the sample.
 */
export type TrainMessage =
  | {
      type: 'ready';
      backend: string;
      parameters: number;
      vocabSize: number;
      msToReady: number;
      /** Where the run starts: step 0 and no losses, or the resumed checkpoint's state. */
      state: TrainState;
    }
  | { type: 'step'; step: number; loss: number; tokensPerSecond: number }
  | { type: 'saved'; state: TrainState; store: string }
  /** The answer to `inspect`: the saved run's state, if any, and where it is kept. */
  | { type: 'stored'; state: TrainState | undefined; store: string }
  | { type: 'sample'; text: string }
  | { type: 'error'; message: string };
