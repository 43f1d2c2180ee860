import { describe, expect, it } from 'vitest';
import { SIGNAL_EXIT, stopOnSignals } from './stop-signals.js';

describe('stopOnSignals', () => {
  it('SIGTERM and SIGINT set the stop reason (the loop polls it); dispose removes the handlers', () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const said: string[] = [];
      const before = process.listenerCount(signal);
      const { stop, dispose } = stopOnSignals((t) => said.push(t));
      process.emit(signal, signal);
      expect(stop.reason).toBe(signal);
      expect(said[0]).toContain(`${signal}: stopping after this step and saving a checkpoint`);
      dispose();
      expect(process.listenerCount(signal)).toBe(before);
    }
    expect(SIGNAL_EXIT).toEqual({ SIGINT: 130, SIGTERM: 143 });
  });
});
