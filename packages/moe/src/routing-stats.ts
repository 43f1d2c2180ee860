import {
  cast,
  type Device,
  minimum,
  noGrad,
  stack,
  type Tensor,
  tidy,
  zeros,
} from '@tessera/tensor-webgpu';

/** What a mixture-of-experts layer routed since its statistics were last read. */
export interface RoutingStats {
  /** Training forward passes counted. */
  forwards: number;
  /** Tokens routed. */
  tokens: number;
  /** Assignments each expert received (tokens × k in all), before the capacity cut. */
  tokensPerExpert: number[];
  /** Assignments dropped by the capacity cut (those tokens' choices passed through the residual). */
  dropped: number;
  /** dropped / (tokens × k); 0 when dropless. */
  droppedShare: number;
  /** The busiest expert's assignments over the mean (1 = perfectly balanced). */
  maxLoad: number;
  /** The idlest expert's assignments over the mean (0: an expert got nothing). */
  minLoad: number;
}

/**
 * Counts kept on the device and added to after each forward pass, so logging costs one read
 * when it happens rather than a stall every step.
 */
export class RoutingCounter {
  private assigned: Tensor;
  private kept: Tensor;
  private forwards = 0;
  private tokens = 0;

  constructor(
    private readonly experts: number,
    private readonly topK: number,
    device?: Device,
  ) {
    this.assigned = zeros([experts], { device });
    this.kept = zeros([experts], { device });
  }

  /** Adds one forward pass: `counts` [E] i32 assignments, `capacity` per expert, `tokens` routed. */
  record(counts: Tensor, capacity: number, tokens: number): void {
    tidy(() =>
      noGrad(() => {
        const c = cast(counts, 'f32');
        this.assigned.add_(c);
        this.kept.add_(minimum(c, capacity));
      }),
    );
    this.forwards++;
    this.tokens += tokens;
  }

  /** The statistics since the last read (one read-back), then starts counting afresh. */
  async read(): Promise<RoutingStats> {
    // A snapshot is recorded before the reset, so a forward pass that runs while the read is
    // under way is counted in the next read, never lost.
    const snapshot = noGrad(() => stack([this.assigned, this.kept]));
    this.assigned.zero_();
    this.kept.zero_();
    const { forwards, tokens } = this;
    this.forwards = 0;
    this.tokens = 0;
    const values = await snapshot.data();
    snapshot.dispose();
    const perExpert = Array.from(values.subarray(0, this.experts));
    const total = tokens * this.topK;
    const dropped = total - Array.from(values.subarray(this.experts)).reduce((a, b) => a + b, 0);
    const meanLoad = total / this.experts;
    return {
      forwards,
      tokens,
      tokensPerExpert: perExpert,
      dropped,
      droppedShare: total > 0 ? dropped / total : 0,
      maxLoad: meanLoad > 0 ? Math.max(...perExpert) / meanLoad : 0,
      minLoad: meanLoad > 0 ? Math.min(...perExpert) / meanLoad : 0,
    };
  }

  dispose(): void {
    this.assigned.dispose();
    this.kept.dispose();
  }
}
