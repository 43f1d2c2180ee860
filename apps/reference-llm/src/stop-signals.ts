import type { StopSignal } from './loop.js';

/** Exit status after a stop by signal: 128 + the signal's number, as shells report it. */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/** A repeated signal this soon (milliseconds) after the first is the same stop request. */
export const REPEAT_MS = 1000;

/**
 * Turns Ctrl-C (SIGINT) and SIGTERM (containers, `timeout`, CI cancelling a job) into a stop
 * request that a training loop polls between steps: the run stops after the current step and
 * saves a checkpoint. A second signal exits at once (status 130 or 143) — one that arrives
 * within `REPEAT_MS` of the first is taken as the same request (a signal to the process and its
 * group). `dispose` removes the handlers; `exit` and `now` are for tests.
 */
export function stopOnSignals(
  write: (text: string) => void = (t) => process.stderr.write(t),
  o: { exit?: (code: number) => void; now?: () => number } = {},
): {
  stop: StopSignal;
  dispose(): void;
} {
  const stop: StopSignal = {};
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const now = o.now ?? (() => performance.now());
  let first = 0;
  const handler = (signal: keyof typeof SIGNAL_EXIT) => {
    if (stop.reason) {
      // GNU timeout (and some process managers) signal the process and then its group: the
      // same signal twice within moments is one request, not the user's second.
      if (now() - first < REPEAT_MS) return;
      exit(SIGNAL_EXIT[signal]);
      return;
    }
    first = now();
    stop.reason = signal;
    write(
      `\n${signal}: stopping after this step and saving a checkpoint (send it again to quit at once)\n`,
    );
  };
  const onInt = () => handler('SIGINT');
  const onTerm = () => handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    stop,
    dispose() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
