import type { StopSignal } from './loop.js';

/** Exit status after a stop by signal: 128 + the signal's number, as shells report it. */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Turns Ctrl-C (SIGINT) and SIGTERM (containers, `timeout`, CI cancelling a job) into a stop
 * request that a training loop polls between steps: the run stops after the current step and
 * saves a checkpoint. A second signal exits at once (status 130 or 143). `dispose` removes the
 * handlers.
 */
export function stopOnSignals(write: (text: string) => void = (t) => process.stderr.write(t)): {
  stop: StopSignal;
  dispose(): void;
} {
  const stop: StopSignal = {};
  const handler = (signal: keyof typeof SIGNAL_EXIT) => {
    if (stop.reason) process.exit(SIGNAL_EXIT[signal]);
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
