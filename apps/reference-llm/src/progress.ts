/** Where progress goes: a terminal (the line is redrawn in place) or a log (plain lines). */
export interface ProgressSink {
  write(text: string): void;
  /** True on a terminal: the bar is redrawn in place with `\r`. */
  readonly isTTY?: boolean;
}

/** The default sink: standard error, so that a command's output on stdout stays clean. */
export const stderrSink: ProgressSink = {
  write: (text) => process.stderr.write(text),
  get isTTY() {
    return process.stderr.isTTY === true;
  },
};

/**
 * A progress bar for work of known size, shared by every command that takes more than a few
 * seconds. On a terminal the line is redrawn at most every 100 ms; in a log it is printed at
 * each 10% and at the end, so CI logs stay short.
 *
 *     tokens    [████████░░░░░░░░░░░░]  40% 200/500  loss 3.21  9,100 tok/s  ETA 12s
 */
export class Progress {
  private readonly started = performance.now();
  private lastDraw = -Infinity;
  private lastDecile = -1;
  private open = false;

  constructor(
    readonly label: string,
    readonly total: number,
    private readonly sink: ProgressSink = stderrSink,
    /** `done` when the bar starts (a resumed run): the rate and ETA count from there. */
    private readonly start = 0,
  ) {}

  /** Reports `done` of `total` units, with a note after the bar (the loss, a rate). */
  update(done: number, note = ''): void {
    const now = performance.now();
    const fraction = this.total > 0 ? done / this.total : 1;
    const finished = done >= this.total;
    if (this.sink.isTTY) {
      if (!finished && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.sink.write(`\r${this.line(done, fraction, note)}\x1b[K`);
      this.open = !finished;
      if (finished) this.sink.write('\n');
      return;
    }
    const decile = Math.floor(10 * Math.min(1, fraction));
    if (decile === this.lastDecile && !finished) return;
    this.lastDecile = finished ? 10 : decile;
    this.sink.write(`${this.line(done, fraction, note)}\n`);
  }

  /**
   * Prints a line of its own (a validation figure) without tearing the bar: on a terminal the
   * bar's line is cleared first and redrawn at the next update.
   */
  log(line: string): void {
    if (this.open) this.sink.write('\r\x1b[K');
    this.open = false;
    this.lastDraw = -Infinity;
    this.sink.write(`${line}\n`);
  }

  /** Ends the bar's line on a terminal (after an early stop). */
  close(): void {
    if (this.open) this.sink.write('\n');
    this.open = false;
  }

  private line(done: number, fraction: number, note: string): string {
    const seconds = (performance.now() - this.started) / 1000;
    const rate = (done - this.start) / seconds;
    const eta = done >= this.total ? '' : `  ETA ${formatSeconds((this.total - done) / rate)}`;
    const parts = [`${this.label.padEnd(9)} ${progressBar(fraction)} ${done}/${this.total}`];
    if (note) parts.push(note);
    return `${parts.join('  ')}${eta}`;
  }
}

/** `[██████░░░░░░░░░░░░░░]  30%`: a fixed-width bar. */
export function progressBar(fraction: number, width = 20): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}] ${String(Math.floor(100 * f)).padStart(3)}%`;
}

/** `2m5s`, `42s`, or `?` for an unknown (infinite) time. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${Math.round(s % 60)}s` : `${Math.round(s)}s`;
}
