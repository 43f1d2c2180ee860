import { add, onesLike } from './ops/index.js';
import { keep, noGrad, tidy } from './scope.js';
import { formatShape, sameShape } from './shape.js';
import type { GradNode, Tensor } from './tensor.js';

/** Nodes reachable from `root`, ordered so every node comes after all nodes that consume its outputs. */
function reverseTopological(root: GradNode): GradNode[] {
  const order: GradNode[] = [];
  const seen = new Set<GradNode>();
  // Iterative post-order DFS: deep graphs (long RNN-style chains) must not overflow the stack.
  const stack: [GradNode, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [node, next] = top;
    if (next < node.inputs.length) {
      top[1]++;
      const child = node.inputs[next]!.node;
      if (child && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

/**
 * Reverse-mode autodiff from `root`. Returns the gradient of every leaf with `requiresGrad`
 * (a tensor that no op produced). Intermediate gradients are disposed as soon as they are used.
 */
export function gradients(root: Tensor, seed?: Tensor): Map<Tensor, Tensor> {
  root.assertAlive('backward');
  if (!root.requiresGrad) {
    throw new Error(
      'backward: the tensor does not require grad (no input of its graph has requiresGrad = true)',
    );
  }
  if (!seed && root.size !== 1) {
    throw new Error(
      `backward: a gradient must be given for a non-scalar tensor of shape ${formatShape(root.shape)}`,
    );
  }
  if (seed && !sameShape(seed.shape, root.shape)) {
    throw new Error(
      `backward: gradient shape ${formatShape(seed.shape)} differs from the tensor's ${formatShape(root.shape)}`,
    );
  }
  const leaves = new Map<Tensor, Tensor>();
  const grads = new Map<Tensor, Tensor>();
  const accumulate = (t: Tensor, g: Tensor, into: Map<Tensor, Tensor>) => {
    const prev = into.get(t);
    if (!prev) {
      into.set(t, g);
      return;
    }
    into.set(t, add(prev, g));
    prev.dispose();
    g.dispose();
  };
  noGrad(() => {
    const start = seed ? seed : onesLike(root);
    if (!root.node) {
      leaves.set(root, seed ? seedCopy(seed) : start);
      return;
    }
    grads.set(root, seed ? seedCopy(seed) : start);
    for (const node of reverseTopological(root.node)) {
      const outs = node.outputs;
      const outGrads = outs.map((o) => grads.get(o) ?? null);
      if (outGrads.every((g) => g === null)) continue;
      const inGrads = tidy(() => node.backward(outGrads));
      for (const o of outs) grads.delete(o);
      // A rule may pass a gradient through (add returns [g, g]): each input gets its own handle
      // (a view sharing storage), so disposing one never frees another's gradient.
      const handed = new Set<Tensor>(outGrads.filter((g): g is Tensor => g !== null));
      for (const [i, input] of node.inputs.entries()) {
        let g = inGrads[i];
        if (!g) continue;
        if (handed.has(g)) g = g.view(g.shape, g.strides, g.offset);
        handed.add(g);
        if (!input.requiresGrad) {
          g.dispose();
          continue;
        }
        if (!sameShape(g.shape, input.shape)) {
          throw new Error(
            `backward of ${node.name}: gradient ${formatShape(g.shape)} does not match input ${i} ${formatShape(input.shape)}`,
          );
        }
        accumulate(input, g, input.node ? grads : leaves);
      }
      for (const g of outGrads) g?.dispose();
    }
  });
  for (const g of grads.values()) g.dispose();
  return leaves;
}

function seedCopy(seed: Tensor): Tensor {
  return add(seed, 0);
}

/**
 * PyTorch-style `loss.backward()`: adds the gradient of `root` into `.grad` of every leaf with
 * `requiresGrad`. Gradients accumulate across calls until reset (`t.grad = null` or zeroGrad).
 */
export function backward(root: Tensor, grad?: Tensor): void {
  for (const [leaf, g] of gradients(root, grad)) {
    if (leaf.grad && !leaf.grad.isDisposed) {
      const sum = noGrad(() => add(leaf.grad!, g));
      leaf.grad.dispose();
      g.dispose();
      leaf.grad = keep(sum);
    } else {
      leaf.grad = keep(g);
    }
  }
}

/**
 * Functional autodiff (like `jax.value_and_grad`): `valueAndGrad(f)(...args)` returns f's scalar
 * value and its gradient with respect to each argument, without touching any `.grad`.
 */
export function valueAndGrad<A extends Tensor[]>(
  f: (...args: A) => Tensor,
): (...args: A) => { value: Tensor; grads: Tensor[] } {
  return (...args: A) => {
    const aliases = args.map((a) => {
      const v = a.view(a.shape, a.strides, a.offset);
      v.requiresGrad = true;
      return v;
    }) as A;
    const value = f(...aliases);
    const found = gradients(value);
    const grads = aliases.map((a) => found.get(a) ?? noGrad(() => add(a, 0).mul(0)));
    for (const a of aliases) a.dispose();
    return { value, grads };
  };
}
