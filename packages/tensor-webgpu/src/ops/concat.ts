import { wgslType } from '../dtype.js';
import { entry1d, grid1d, storageBindings } from '../kernel.js';
import { defineOp } from '../op.js';
import { contiguousStrides, formatShape, normalizeAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { Uniforms } from '../uniforms.js';
import { slice, unsqueeze } from './view.js';

/** Inputs one concatenation kernel binds (WebGPU guarantees 8 storage buffers per stage). */
const MAX_INPUTS = 7;

/** Concatenates up to MAX_INPUTS contiguous tensors along `dim` in one pass over the output. */
const catOp = defineOp<{ dim: number }>({
  name: 'cat',
  outputs: (inputs, { dim }) => {
    const first = inputs[0]!;
    for (const [k, t] of inputs.entries()) {
      if (t.dtype !== first.dtype)
        throw new TypeError(`cat: tensor ${k} is ${t.dtype}, tensor 0 is ${first.dtype}`);
      if (
        t.shape.length !== first.shape.length ||
        t.shape.some((d, i) => i !== dim && d !== first.shape[i])
      ) {
        throw new RangeError(
          `cat: tensor ${k} has shape ${formatShape(t.shape)}, incompatible with ${formatShape(first.shape)} outside dimension ${dim}`,
        );
      }
    }
    const shape = [...first.shape];
    shape[dim] = inputs.reduce((a, t) => a + t.shape[dim]!, 0);
    return [{ shape, dtype: first.dtype }];
  },
  wgsl: (inputs, [y], { dim }, info) => {
    const n = sizeOf(y!.shape);
    const inner = contiguousStrides(y!.shape)[dim]!;
    const u = new Uniforms().u32('n', n).u32('inner', inner).u32('size', y!.shape[dim]!);
    const ends: number[] = [];
    let end = 0;
    for (const t of inputs) {
      end += t.shape[dim]!;
      ends.push(end);
    }
    u.u32s('ends', ends, 8);
    const t = wgslType(y!.dtype);
    const names = inputs.map((_, k) => `x${k}`);
    const branches = names
      .map((name, k) => {
        const start = k === 0 ? '0u' : `P.ends[${Math.floor((k - 1) / 4)}][${(k - 1) % 4}]`;
        const stop = `P.ends[${Math.floor(k / 4)}][${k % 4}]`;
        return `if (c < ${stop}) { let w = ${stop} - ${start}; y[i] = ${name}[(outer * w + (c - ${start})) * P.inner + r]; return; }`;
      })
      .join('\n  ');
    return {
      key: `cat:${y!.dtype}:${inputs.length}`,
      uniforms: u,
      workgroups: grid1d(n, info),
      code: () =>
        `${t === 'f16' ? 'enable f16;\n' : ''}${u.declaration(inputs.length + 1)}${storageBindings(
          names.map((name) => [name, t]),
          [['y', t]],
        )}${entry1d(`  if (i >= P.n) { return; }
  let c = (i / P.inner) % P.size;
  let outer = i / (P.inner * P.size);
  let r = i % P.inner;
  ${branches}`)}`,
    };
  },
  cpu: (inputs, [y], { dim }) => {
    const inner = contiguousStrides(y!.shape)[dim]!;
    const size = y!.shape[dim]!;
    const outerCount = sizeOf(y!.shape) / Math.max(inner * size, 1);
    let start = 0;
    for (const x of inputs) {
      const w = x.shape[dim]!;
      for (let o = 0; o < outerCount; o++) {
        y!.data.set(
          x.data.subarray(o * w * inner, (o + 1) * w * inner),
          (o * size + start) * inner,
        );
      }
      start += w;
    }
  },
  backward: ([g], { inputs, params: { dim } }) => {
    let start = 0;
    return inputs.map((x) => {
      const part = slice(g!, dim, start, start + x.shape[dim]!);
      start += x.shape[dim]!;
      return part;
    });
  },
});

/** Concatenates tensors along `dim` (all other dimensions must match), like `torch.cat`. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('cat: expected at least one tensor');
  const d = normalizeAxis(dim, tensors[0]!.rank, 'cat');
  if (tensors.length <= MAX_INPUTS) return catOp(tensors, { dim: d })[0]!;
  // More inputs than a kernel binds: concatenate in groups, then the groups.
  const groups: Tensor[] = [];
  for (let k = 0; k < tensors.length; k += MAX_INPUTS)
    groups.push(cat(tensors.slice(k, k + MAX_INPUTS), d));
  return cat(groups, d);
}

/** Stacks equally shaped tensors along a new dimension `dim`, like `torch.stack`. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('stack: expected at least one tensor');
  const d = normalizeAxis(dim, tensors[0]!.rank + 1, 'stack');
  for (const [k, t] of tensors.entries()) {
    if (t.shape.join() !== tensors[0]!.shape.join()) {
      throw new RangeError(
        `stack: tensor ${k} has shape ${formatShape(t.shape)}, tensor 0 has ${formatShape(tensors[0]!.shape)}`,
      );
    }
  }
  return cat(
    tensors.map((t) => unsqueeze(t, d)),
    d,
  );
}
