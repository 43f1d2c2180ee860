/** What the training page sends its worker: how long to train, and what to sample after. */
export interface TrainRequest {
  /** Optimizer steps of the tiny preset. */
  steps: number;
  /** The sample's prompt. */
  prompt: string;
  /** Tokens to sample after training. */
  maxNewTokens: number;
  /** Sampling temperature (0 is greedy). */
  temperature: number;
}

/** What the worker posts back, in order: ready, one step per optimizer step, then the sample. */
export type TrainMessage =
  | { type: 'ready'; backend: string; parameters: number; vocabSize: number; msToReady: number }
  | { type: 'step'; step: number; loss: number; tokensPerSecond: number }
  | { type: 'sample'; text: string }
  | { type: 'error'; message: string };
