import { narrow, reshape, stack, type Tensor } from '@tessera/tensor-webgpu';

const STACKED = /^(.*\.)?experts\.(gate_proj|up_proj|down_proj)$/;
const PER_EXPERT = /^(.*\.)?experts\.(\d+)\.(gate_proj|up_proj|down_proj)\.weight$/;

/**
 * A state dict with stacked expert weights (`…experts.gate_proj` [E, out, in], as `Experts`
 * holds them) under Hugging Face's DeepSeek-V3 per-expert names
 * (`…experts.{i}.gate_proj.weight` [out, in]). The per-expert tensors are views of the stacked
 * ones (no copies); every other key passes through unchanged. For `saveSafetensors`, to write a
 * checkpoint that Hugging Face's `DeepseekV3ForCausalLM` names match.
 */
export function toHuggingFaceExperts(dict: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [key, t] of Object.entries(dict)) {
    const m = STACKED.exec(key);
    if (!m || t.rank !== 3) {
      out[key] = t;
      continue;
    }
    const [, prefix = '', name] = m;
    for (let i = 0; i < t.shape[0]!; i++)
      out[`${prefix}experts.${i}.${name}.weight`] = reshape(narrow(t, 0, i, 1), t.shape.slice(1));
  }
  return out;
}

/**
 * The inverse of `toHuggingFaceExperts`: per-expert Hugging Face keys
 * (`…experts.{i}.down_proj.weight`) stacked into `…experts.down_proj` [E, out, in], for
 * `loadStateDict`. The stacked tensors are new (the caller disposes them); other keys pass
 * through unchanged.
 *
 * @throws RangeError - a projection whose expert indices are not 0..E−1, or whose experts'
 *   shapes differ
 */
export function fromHuggingFaceExperts(dict: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  const groups = new Map<string, Map<number, Tensor>>();
  for (const [key, t] of Object.entries(dict)) {
    const m = PER_EXPERT.exec(key);
    if (!m) {
      out[key] = t;
      continue;
    }
    const [, prefix = '', index, name] = m;
    const stacked = `${prefix}experts.${name}`;
    const group = groups.get(stacked) ?? new Map<number, Tensor>();
    group.set(Number(index), t);
    groups.set(stacked, group);
  }
  for (const [stacked, group] of groups) {
    const tensors = Array.from({ length: group.size }, (_, i) => group.get(i));
    const missing = tensors.indexOf(undefined);
    if (missing >= 0)
      throw new RangeError(
        `fromHuggingFaceExperts: "${stacked}" has ${group.size} experts but none numbered ${missing} (expected 0..${group.size - 1})`,
      );
    const shape = tensors[0]!.shape.join();
    const odd = tensors.findIndex((t) => t!.shape.join() !== shape);
    if (odd >= 0)
      throw new RangeError(
        `fromHuggingFaceExperts: "${stacked}" expert ${odd} is [${tensors[odd]!.shape.join(', ')}], expert 0 [${shape.split(',').join(', ')}]`,
      );
    out[stacked] = stack(tensors as Tensor[]);
  }
  return out;
}
