import { formatSeconds, type Progress } from './progress.js';

/** A request to stop, set by a signal handler (see `stop-signals.ts`); the loop polls it between steps. */
export interface StopSignal {
  reason?: 'SIGINT' | 'SIGTERM';
}

/** Why a loop ended before its last step: a signal, or the time limit. */
export type StopReason = NonNullable<StopSignal['reason']> | 'time';

/** Validation figures: `loss` (nats/token) and any others (bits per byte, accuracy). */
export type Evaluation = { loss: number } & Record<string, number>;

/** What a run has recorded so far: the training loss of every step, the validation figures at intervals. */
export interface History {
  trainLoss: number[];
  val: ({ step: number } & Evaluation)[];
}

/**
 * The training loop, for pretraining and every tuning stage alike: it knows nothing of models,
 * losses or data formats. A stage hands it a data source, a step function, an evaluation and a
 * checkpoint hook.
 */
export interface TrainingLoop<Batch> {
  /** Steps already taken (a resumed run starts past 0). */
  start: number;
  /** The run's length in steps. */
  total: number;
  /**
   * The batch of a step (0-based). A function of the step rather than an iterator, so that a
   * resumed run sees the batches an uninterrupted one would without saving a position.
   */
  data: (step: number) => Batch;
  /** One optimisation step on a batch; returns the training loss. */
  step: (batch: Batch, step: number) => Promise<number>;
  /** Validation every `every` steps, at the last step, and when the time limit stops the run. */
  evaluate?: { every: number; run: () => Promise<Evaluation> };
  /** Checkpoint after every `every` steps, at the last step, and when the run is stopped. */
  checkpoint?: { every: number; save: (stepsDone: number) => Promise<void> };
  /** Appended to as the run goes (a resumed run passes the history it saved). */
  history: History;
  progress: Progress;
  /** Polled between steps: a signal stops the run after the current step, which is then saved. */
  stop?: StopSignal;
  /** Wall-clock budget in seconds: past it the run stops after the current step, evaluates and saves. */
  maxSeconds?: number;
  /** Tokens a step trains on, for the rate shown beside the bar. */
  tokensPerStep?: number;
}

export interface LoopResult {
  /** Steps done in all (including those before a resume). */
  steps: number;
  /** Set when the run ended before `total`. */
  stopReason?: StopReason;
  /** Wall-clock seconds of this call. */
  seconds: number;
  /** Tokens per second over the steps of this call (0 without `tokensPerStep`). */
  tokensPerSecond: number;
}

/**
 * Runs steps `start` … `total − 1`: each takes the step's batch, steps, records the loss (a loss
 * that is not finite is an error, and nothing more is saved), evaluates and saves at the
 * intervals, and moves the progress bar. On a stop request or the time limit it finishes the
 * current step, evaluates (time limit only), saves, and returns the reason.
 */
export async function runTrainingLoop<Batch>(o: TrainingLoop<Batch>): Promise<LoopResult> {
  if (o.maxSeconds !== undefined && !(o.maxSeconds > 0))
    throw new RangeError(`training loop: maxSeconds must be > 0, got ${o.maxSeconds}`);
  for (const [name, hook] of [
    ['evaluate', o.evaluate],
    ['checkpoint', o.checkpoint],
  ] as const) {
    if (hook && !(Number.isInteger(hook.every) && hook.every >= 1))
      throw new RangeError(
        `training loop: ${name}.every must be an integer >= 1, got ${hook.every}`,
      );
  }
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const rate = (step: number) =>
    ((step - o.start) * (o.tokensPerStep ?? 0)) / Math.max(elapsed(), 1e-9);
  let step = o.start;
  let saved = o.start;
  let evaluated = o.history.val.at(-1)?.step;

  const evaluate = async () => {
    if (!o.evaluate) return;
    const figures = await o.evaluate.run();
    o.history.val.push({ step, ...figures });
    evaluated = step;
    const extra = Object.entries(figures)
      .filter(([k]) => k !== 'loss')
      .map(([k, v]) => `  ${k} ${v.toFixed(3)}`)
      .join('');
    o.progress.log(
      `step ${step}/${o.total}  train ${o.history.trainLoss.at(-1)?.toFixed(4)}  val ${figures.loss.toFixed(4)}${extra}`,
    );
  };
  const save = async () => {
    if (!o.checkpoint) return;
    await o.checkpoint.save(step);
    saved = step;
  };

  let stopReason: StopReason | undefined;
  while (step < o.total) {
    if (o.stop?.reason) {
      stopReason = o.stop.reason;
      break;
    }
    if (o.maxSeconds !== undefined && elapsed() >= o.maxSeconds) {
      stopReason = 'time';
      break;
    }
    const loss = await o.step(o.data(step), step);
    if (!Number.isFinite(loss))
      throw new Error(
        `training: the loss became ${loss} at step ${step + 1}; the last checkpoint (step ${saved}) is kept. Lower the learning rate or check the data.`,
      );
    o.history.trainLoss.push(loss);
    step++;
    const last = step === o.total;
    if (o.evaluate && (step % o.evaluate.every === 0 || last)) await evaluate();
    if (o.checkpoint && (step % o.checkpoint.every === 0 || last)) await save();
    const tokens = o.tokensPerStep ? `  ${Math.round(rate(step))} tok/s` : '';
    o.progress.update(step, `loss ${loss.toFixed(4)}${tokens}`);
  }
  if (stopReason) {
    o.progress.close();
    if (stopReason === 'time' && evaluated !== step && step > 0) await evaluate();
    if (saved !== step) await save();
    const why =
      stopReason === 'time' ? `the ${formatSeconds(o.maxSeconds!)} time limit` : stopReason;
    o.progress.log(`stopped by ${why} at step ${step}/${o.total}`);
  }
  return { steps: step, stopReason, seconds: elapsed(), tokensPerSecond: rate(step) };
}
