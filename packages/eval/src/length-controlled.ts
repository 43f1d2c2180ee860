/**
 * A length-controlled win rate, after AlpacaEval 2.0's (Dubois et al., 2024, "Length-Controlled
 * AlpacaEval"): a logistic regression of each item's outcome on how much longer answer A is,
 * p(A wins) = σ(θ + φ · tanh(Δ / sd(Δ))) with Δ = length(A) − length(B) in characters, and the
 * win rate it predicts when the lengths are equal, σ(θ). A judge that prefers longer answers
 * raises the raw win rate of the wordier model but not this one. Fitted by Newton's method on the
 * cross-entropy with a small ridge penalty (λ = 0.01 on both weights), which keeps the fit finite
 * when length separates the outcomes completely. (AlpacaEval's model also has an instruction
 * difficulty term, which a single pair of models cannot identify; it is left out.)
 */

/** One judged item: A's score (1 a win, 0 a loss, 0.5 a tie) and the two answers' lengths. */
export interface LengthOutcome {
  score: number;
  lengthA: number;
  lengthB: number;
}

/** The fitted model and the win rate it predicts at equal length. */
export interface LengthControlledFit {
  /** σ(θ): A's win rate with the length difference regressed out. */
  winRate: number;
  theta: number;
  phi: number;
}

const RIDGE = 0.01;
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * Fits the length-controlled model to `outcomes`.
 *
 * @throws RangeError - no outcomes, or a score outside [0, 1]
 */
export function lengthControlledWinRate(outcomes: readonly LengthOutcome[]): LengthControlledFit {
  if (outcomes.length === 0) throw new RangeError('lengthControlledWinRate: no outcomes to fit');
  outcomes.forEach((o, i) => {
    if (!(o.score >= 0 && o.score <= 1))
      throw new RangeError(
        `lengthControlledWinRate: outcomes[${i}].score is ${o.score}, expected 0..1`,
      );
  });
  const diffs = outcomes.map((o) => o.lengthA - o.lengthB);
  const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
  const sd = Math.sqrt(diffs.reduce((a, d) => a + (d - mean) ** 2, 0) / diffs.length);
  const xs = diffs.map((d) => (sd > 0 ? Math.tanh(d / sd) : 0));
  let theta = 0;
  let phi = 0;
  for (let iter = 0; iter < 100; iter++) {
    // Gradient and Hessian of Σ cross-entropy + (λ/2)(θ² + φ²).
    let g0 = RIDGE * theta;
    let g1 = RIDGE * phi;
    let h00 = RIDGE;
    let h01 = 0;
    let h11 = RIDGE;
    for (const [i, o] of outcomes.entries()) {
      const x = xs[i]!;
      const p = sigmoid(theta + phi * x);
      const w = p * (1 - p);
      g0 += p - o.score;
      g1 += (p - o.score) * x;
      h00 += w;
      h01 += w * x;
      h11 += w * x * x;
    }
    const det = h00 * h11 - h01 * h01;
    const step0 = (h11 * g0 - h01 * g1) / det;
    const step1 = (h00 * g1 - h01 * g0) / det;
    theta -= step0;
    phi -= step1;
    if (Math.abs(step0) + Math.abs(step1) < 1e-12) break;
  }
  return { winRate: sigmoid(theta), theta, phi };
}
