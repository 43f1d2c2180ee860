import { type CausalLM, DecodeBatch, type GenerateOptions, type StepToken } from '@tessera/sampler';

/** How a sequence ended, as the engine sees it. */
export type EndReason = 'stop' | 'length' | 'cancelled' | 'timeout' | 'error';

/** One sequence to decode: its prompt, options, and where its tokens go. */
export interface SequenceRequest {
  prompt: readonly number[];
  /** Tokens to generate at most (the prompt and these must fit the window). */
  maxTokens: number;
  /** Sampling, seed, stop ids, logprobs and a grammar mask: the sampler's per-row options. */
  options: Omit<GenerateOptions, 'maxNewTokens' | 'stopSequences' | 'codec'>;
  /** Ends the sequence when aborted (the client went away): its row is freed at once. */
  signal?: AbortSignal;
  /** Ends the sequence (reason `timeout`) at this time (`performance.now()` milliseconds). */
  deadline?: number;
  /** Each token as it is chosen; return false to end the sequence here (reason `stop`). */
  onToken(token: StepToken): boolean;
  /** Called once, when the sequence ends, however it ends. */
  onEnd(reason: EndReason, error?: Error): void;
}

/** The engine refuses a request because its queue is full (HTTP 429). */
export class QueueFullError extends Error {
  constructor(readonly queued: number) {
    super(`the server is busy: ${queued} requests are waiting; retry later`);
  }
}

/** Options of `Engine.start`. */
export interface EngineOptions {
  /** Sequences decoded together at most: the rows of the KV cache. */
  maxBatch: number;
  /** Bytes the KV cache may take; rows beyond it are not created. Default: no limit. */
  kvBudgetBytes?: number;
  /** Requests that may wait for a row; more are refused with `QueueFullError`. */
  maxQueue: number;
  /** Prompt tokens a row runs per step (chunked prefill). */
  prefillChunk: number;
  /** Positions of a row: prompt and completion (default the model's window). */
  maxLength?: number;
  /** Called after every decode step with the rows that took part and its duration in ms. */
  onStep?: (rows: number, ms: number) => void;
}

/** What `Engine.stats` reports, for metrics and admission. */
export interface EngineStats {
  queued: number;
  active: number;
  rows: number;
  /** KV-cache positions in use, over all rows. */
  kvPositions: number;
  /** KV-cache positions the rows can hold in all. */
  kvCapacity: number;
  /** Bytes the KV cache takes on the device (measured when the engine started). */
  kvBytes: number;
}

interface Sequence extends SequenceRequest {
  row?: number;
  /** Set when the sequence must end between steps (aborted while a step ran). */
  ending?: EndReason;
}

/**
 * One model's scheduler: every request runs through one `DecodeBatch` (continuous batching, as
 * vLLM and TGI serve). Each step, waiting requests take free rows (first come, first served),
 * every active row gets one forward pass's worth of work — a token, or the next chunk of its
 * prompt — and finished rows leave. A row's tokens depend only on its own prompt, options and
 * seed, never on the other rows.
 *
 * Memory is reserved up front: each row holds a whole window of KV cache, so an admitted request
 * always fits (no preemption), and the KV budget caps the number of rows. Requests that find no
 * free row wait in a bounded queue; past it they are refused.
 */
export class Engine {
  private readonly queue: Sequence[] = [];
  private readonly running = new Map<number, Sequence>();
  private loop: Promise<void> | undefined;
  private stepping = false;
  private closed = false;

  private constructor(
    readonly model: CausalLM,
    private readonly batch: DecodeBatch,
    readonly rows: number,
    readonly maxLength: number,
    private readonly kvBytes: number,
    private readonly options: EngineOptions,
  ) {}

  /**
   * Creates as many rows as `maxBatch` and the KV budget allow, and runs one full-window prompt
   * through them, which compiles the kernels and grows the cache (all rows at once) to its final
   * size; its bytes are then measured on the device. With a budget, one row is measured first
   * to size the rows. Throws when the budget holds no row, naming both sizes.
   */
  static async start(model: CausalLM, options: EngineOptions): Promise<Engine> {
    const maxLength = options.maxLength ?? model.maxSequenceLength;
    if (!maxLength)
      throw new Error('serve: give maxLength (the model states no maxSequenceLength)');
    const measure = async (rows: number) => {
      const before = model.device.memory().liveBytes;
      const batch = new DecodeBatch(model, {
        rows,
        maxLength,
        prefillChunk: options.prefillChunk,
      });
      batch.add(new Array(maxLength - 1).fill(0), { temperature: 0, maxNewTokens: 2 });
      while (batch.active.length) await batch.step();
      return { batch, bytes: model.device.memory().liveBytes - before };
    };
    let rows = options.maxBatch;
    if (options.kvBudgetBytes !== undefined) {
      const probe = await measure(1);
      probe.batch.dispose();
      rows = Math.min(rows, Math.floor(options.kvBudgetBytes / Math.max(probe.bytes, 1)));
      if (rows < 1)
        throw new RangeError(
          `serve: the KV-cache budget of ${mb(options.kvBudgetBytes)} holds no sequence: one row of ${maxLength} positions takes ${mb(probe.bytes)}`,
        );
    }
    const { batch, bytes } = await measure(rows);
    return new Engine(model, batch, rows, maxLength, bytes, options);
  }

  /** Queue depth, active rows and KV-cache use. */
  stats(): EngineStats {
    const lengths = this.batch.cache?.lengths ?? [];
    return {
      queued: this.queue.length,
      active: this.running.size,
      rows: this.rows,
      kvPositions: lengths.reduce((a, b) => a + b, 0),
      kvCapacity: this.rows * this.maxLength,
      kvBytes: this.kvBytes,
    };
  }

  /**
   * Queues a sequence; it starts at the next step with a free row. Throws `QueueFullError` when
   * `maxQueue` requests are already waiting, and a RangeError when the prompt and `maxTokens`
   * do not fit the window.
   */
  submit(request: SequenceRequest): void {
    if (this.closed) throw new Error('serve: the engine is shut down');
    const need = request.prompt.length + request.maxTokens;
    if (need > this.maxLength)
      throw new RangeError(
        `the prompt (${request.prompt.length} tokens) and the completion (${request.maxTokens}) need ${need} positions; the model's window is ${this.maxLength}`,
      );
    // Requests queued beyond the free rows wait for a row to finish: at most maxQueue of them.
    const free = this.rows - this.running.size;
    const waiting = this.queue.length - Math.max(0, free);
    if (waiting >= this.options.maxQueue) throw new QueueFullError(waiting);
    const seq: Sequence = { ...request };
    if (request.signal?.aborted) {
      request.onEnd('cancelled');
      return;
    }
    request.signal?.addEventListener('abort', () => this.end(seq, 'cancelled'), { once: true });
    this.queue.push(seq);
    this.loop ??= this.run().finally(() => {
      this.loop = undefined;
    });
  }

  /** Ends `seq`: dropped from the queue, or its row freed now (or right after a running step). */
  private end(seq: Sequence, reason: EndReason, error?: Error): void {
    const queued = this.queue.indexOf(seq);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      seq.onEnd(reason, error);
    } else if (seq.row !== undefined && this.running.get(seq.row) === seq) {
      if (this.stepping) seq.ending ??= reason;
      else this.release(seq, reason, error);
    }
  }

  private release(seq: Sequence, reason: EndReason, error?: Error, rowLeft = false): void {
    this.running.delete(seq.row!);
    if (!rowLeft) this.batch.remove(seq.row!);
    seq.onEnd(reason, error);
  }

  private admit(): void {
    const now = performance.now();
    for (const seq of [...this.queue])
      if (seq.deadline !== undefined && now >= seq.deadline) this.end(seq, 'timeout');
    for (const seq of [...this.running.values()])
      if (seq.deadline !== undefined && now >= seq.deadline) this.end(seq, 'timeout');
    while (this.queue.length && this.running.size < this.rows) {
      const seq = this.queue.shift()!;
      try {
        seq.row = this.batch.add(seq.prompt, { ...seq.options, maxNewTokens: seq.maxTokens });
        this.running.set(seq.row, seq);
      } catch (e) {
        seq.onEnd('error', e as Error);
      }
    }
  }

  /** Steps the batch while there is work; new requests join between steps. */
  private async run(): Promise<void> {
    for (;;) {
      // Let the server read requests and write streams between steps.
      await new Promise((resolve) => setImmediate(resolve));
      this.admit();
      if (!this.running.size) return;
      const started = performance.now();
      const rows = this.running.size;
      let tokens: StepToken[];
      this.stepping = true;
      try {
        tokens = await this.batch.step();
      } catch (e) {
        this.stepping = false;
        for (const seq of [...this.running.values()]) this.release(seq, 'error', e as Error);
        continue;
      }
      this.stepping = false;
      this.options.onStep?.(rows, performance.now() - started);
      for (const t of tokens) this.deliver(t);
      for (const seq of [...this.running.values()]) if (seq.ending) this.release(seq, seq.ending);
    }
  }

  private deliver(t: StepToken): void {
    const seq = this.running.get(t.row);
    if (!seq) return;
    if (seq.ending) {
      this.release(seq, seq.ending, undefined, t.done);
      return;
    }
    let more: boolean;
    try {
      more = seq.onToken(t);
    } catch (e) {
      this.release(seq, 'error', e as Error, t.done);
      return;
    }
    if (t.done) {
      const stopped = seq.options.stopTokenIds?.includes(t.token) ?? false;
      this.release(seq, stopped || !more ? 'stop' : 'length', undefined, true);
    } else if (!more) this.release(seq, 'stop');
  }

  /** Ends every sequence (reason `cancelled`), waits for the running step, frees the cache. */
  async close(): Promise<void> {
    this.closed = true;
    for (const seq of [...this.queue]) this.end(seq, 'cancelled');
    for (const seq of [...this.running.values()]) this.end(seq, 'cancelled');
    await this.loop;
    this.batch.dispose();
  }
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
