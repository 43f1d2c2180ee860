import { NonFiniteLogitsError } from '@tessera/sampler';
import { readSafetensorsHeader } from '@tessera/tensor-webgpu';

/**
 * The first tensor of a safetensors file holding a NaN or an infinity (`name[index] = value`),
 * or undefined when every float is finite. Reads F32 and F16 data in place; integer tensors are
 * always finite. Throws the header's own error for a malformed file.
 */
export function firstNonFinite(bytes: Uint8Array): string | undefined {
  const header = readSafetensorsHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const [name, entry] of Object.entries(header.tensors)) {
    const [begin, end] = entry.data_offsets;
    const from = header.dataStart + begin;
    if (entry.dtype === 'F32') {
      for (let at = from; at < header.dataStart + end; at += 4) {
        const v = view.getFloat32(at, true);
        if (!Number.isFinite(v)) return `${name}[${(at - from) / 4}] = ${v}`;
      }
    } else if (entry.dtype === 'F16' || entry.dtype === 'BF16') {
      const exponent = entry.dtype === 'F16' ? 0x7c00 : 0x7f80; // all ones: NaN or infinity
      for (let at = from; at < header.dataStart + end; at += 2) {
        if ((view.getUint16(at, true) & exponent) === exponent)
          return `${name}[${(at - from) / 2}] = not finite`;
      }
    }
  }
  return undefined;
}

/**
 * The error for a model whose forward pass gave NaN or infinite logits although its weights are
 * finite (weights large enough to overflow f32 on the way), naming the checkpoint `dir` and
 * where it showed (`detail`).
 */
export function nonFiniteLogitsError(dir: string, detail: string): Error {
  return new Error(
    `${dir}: the model produced non-finite logits (the checkpoint's weights overflow?): ${detail}; no figure or text can come from it`,
  );
}

/** Runs `work`, turning the sampler's `NonFiniteLogitsError` into `nonFiniteLogitsError(dir, …)`. */
export async function withFiniteLogits<R>(dir: string, work: () => Promise<R>): Promise<R> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof NonFiniteLogitsError)
      throw nonFiniteLogitsError(dir, `${e.value} at token ${e.token} while generating`);
    throw e;
  }
}
