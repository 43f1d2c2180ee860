import { describe, expect, it } from 'vitest';
import { REPEAT_MS, SIGNAL_EXIT, stopOnSignals } from './stop-signals.js';

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

  it('the same signal again within moments (timeout signals the process and its group) is one request; later, it quits', () => {
    let t = 0;
    const exits: number[] = [];
    const { stop, dispose } = stopOnSignals(() => {}, {
      exit: (code) => exits.push(code),
      now: () => t,
    });
    process.emit('SIGTERM', 'SIGTERM');
    t = REPEAT_MS / 10;
    process.emit('SIGTERM', 'SIGTERM');
    expect(stop.reason).toBe('SIGTERM');
    expect(exits).toEqual([]); // still stopping after the step, and saving
    t = REPEAT_MS * 2;
    process.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([130]);
    dispose();
  });
});
