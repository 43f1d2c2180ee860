import type { Module } from '@tessera/nn';
import { MoE } from './moe.js';
import type { RoutingStats } from './routing-stats.js';

function moeLayers(root: Module): [string, MoE][] {
  return root.namedModules().filter((e): e is [string, MoE] => e[1] instanceof MoE);
}

/**
 * Calls `updateBias()` on every `MoE` layer under `root` (DeepSeek-V3's auxiliary-loss-free
 * balancing): once per training step, after the optimizer's. Runs on the device, reads nothing
 * back. Returns how many layers it updated (those built with `biasUpdateRate`).
 */
export function updateExpertBiases(root: Module): number {
  let updated = 0;
  for (const [, layer] of moeLayers(root)) {
    if (layer.biasUpdateRate > 0) {
      layer.updateBias();
      updated++;
    }
  }
  return updated;
}

/**
 * The routing statistics of every `MoE` layer under `root` since the last read, by module path
 * (`model.layers.3.mlp`). One read-back per layer: call it when logging, not every step.
 */
export async function readRoutingStats(root: Module): Promise<Record<string, RoutingStats>> {
  const layers = moeLayers(root);
  const stats = await Promise.all(layers.map(([, layer]) => layer.readRoutingStats()));
  return Object.fromEntries(layers.map(([name], i) => [name, stats[i]!]));
}
