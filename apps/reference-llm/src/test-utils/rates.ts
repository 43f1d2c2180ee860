import type { BaseOptions, Optimizer } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';

/**
 * The learning rate each optimizer group actually used at each of `steps` steps, measured from
 * the weights: with zero gradients AdamW's and Muon's updates vanish and only decoupled weight
 * decay is left, p ← p·(1 − lr·wd), so lr = (1 − p_new / p_old) / wd. `decay` gives each group's
 * weight decay. Mutates the optimizer's parameters.
 */
export async function ratesUsed(
  optimizer: Optimizer<BaseOptions>,
  decay: number[],
  steps: number,
): Promise<number[][]> {
  const rates: number[][] = optimizer.groups.map(() => []);
  for (let s = 0; s < steps; s++) {
    const before = await Promise.all(optimizer.groups.map((g) => g.params[0]!.data()));
    for (const g of optimizer.groups)
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = T.zeros(p.shape, { device: p.device });
      }
    optimizer.step();
    for (const [i, g] of optimizer.groups.entries()) {
      const after = await g.params[0]!.data();
      let ratio = 0;
      let n = 0;
      for (let j = 0; j < after.length; j++)
        if (Math.abs(before[i]![j]!) > 1e-2) {
          ratio += after[j]! / before[i]![j]!;
          n++;
        }
      rates[i]!.push((1 - ratio / n) / decay[i]!);
    }
  }
  optimizer.zeroGrad();
  return rates;
}
