import type { CausalLM, ForwardOptions, ModelCache } from '@tessera/sampler';
import { createDevice, type Device, type Tensor, tensor } from '@tessera/tensor-webgpu';
import type { Tokenizer } from '@tessera/tokenizer';
import type { EngineOptions } from '../serve/engine.js';
import { type ServedModel, serveModel } from '../serve/models.js';
import { testEngine } from './serve.js';

/** A cache that only counts each row's positions (the scripted model needs nothing else). */
class PositionCache implements ModelCache {
  lengths: number[];
  constructor(
    readonly rows: number,
    readonly maxLength: number,
  ) {
    this.lengths = new Array<number>(rows).fill(0);
  }
  reset(row?: number): void {
    for (let r = 0; r < this.rows; r++) if (row === undefined || row === r) this.lengths[r] = 0;
  }
  truncate(row: number, length: number): void {
    this.lengths[row] = length;
  }
  reorder(order: readonly number[]): void {
    this.lengths = order.map((r) => this.lengths[r]!);
  }
  dispose(): void {}
}

/**
 * A model that writes a script: at absolute position p (prompt included) it puts logit 10 on
 * `script[p]` and 0 elsewhere (past the script, on token 0), so greedy decoding after a prompt of
 * length L writes `script[L], script[L+1], ...` — a model whose output a test chooses.
 */
export class ScriptedLM implements CausalLM<PositionCache> {
  constructor(
    readonly device: Device,
    readonly vocabSize: number,
    readonly script: readonly number[],
    readonly maxSequenceLength = 512,
  ) {}

  forward(ids: Tensor, options: ForwardOptions<PositionCache> = {}): Tensor {
    const [n, t] = ids.shape as [number, number];
    const logits = new Float32Array(n * t * this.vocabSize);
    for (let b = 0; b < n; b++) {
      const row = options.rows?.[b] ?? b;
      const start = options.cache ? options.cache.lengths[row]! : 0;
      for (let i = 0; i < t; i++)
        logits[(b * t + i) * this.vocabSize + (this.script[start + i + 1] ?? 0)] = 10;
      if (options.cache) options.cache.lengths[row]! += t;
    }
    return tensor(logits, { shape: [n, t, this.vocabSize], device: this.device });
  }

  createCache(rows: number, maxLength: number): PositionCache {
    return new PositionCache(rows, maxLength);
  }
}

/**
 * A served model whose reply to `prompt` is `reply` (greedy decoding writes it token by token;
 * special-token text in it is the special token),
 * with the micro run's tokenizer.
 */
export async function scriptedServed(
  tokenizer: Tokenizer,
  prompt: readonly number[],
  reply: string,
  engine: Partial<EngineOptions> = {},
): Promise<ServedModel> {
  const script = [...prompt, ...tokenizer.encode(reply, { allowedSpecial: 'all' })];
  const lm = new ScriptedLM(await createDevice({ backend: 'cpu' }), tokenizer.vocabSize, script);
  return serveModel({ name: 'scripted', dir: '', step: 0 }, lm, tokenizer, {
    ...testEngine,
    ...engine,
  });
}
