import type { Module } from '@tessera/nn';
import type { Tensor } from '@tessera/tensor-webgpu';

/** A layer that adds a term to the training loss (see `FeedForward.auxLoss`). */
interface AuxLossSource {
  auxLoss(): Tensor | undefined;
}

function hasAuxLoss(m: Module): m is Module & AuxLossSource {
  return typeof (m as Partial<AuxLossSource>).auxLoss === 'function';
}

/**
 * The auxiliary losses of the last forward pass of every layer under `root` that has one, by
 * module path (`model.layers.3.mlp`): scalars to add to the training loss, e.g. a mixture of
 * experts' load-balancing loss. Call it after the forward pass, in the same `tidy` scope.
 */
export function auxLosses(root: Module): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, m] of root.namedModules()) {
    const loss = hasAuxLoss(m) ? m.auxLoss() : undefined;
    if (loss) out[name] = loss;
  }
  return out;
}
