import {
  cast,
  checkOptions,
  type Device,
  loadSafetensors,
  noGrad,
  saveSafetensors,
  Tensor,
} from '@tessera/tensor-webgpu';

// Tensors registered as trainable parameters; every other tensor a module holds is a buffer.
const parameterSet = new WeakSet<Tensor>();

/** Marks `t` as a parameter (trainable: `requiresGrad` is set) and returns it. */
export function parameter(t: Tensor): Tensor {
  parameterSet.add(t);
  t.requiresGrad = true;
  return t;
}

export function isParameter(t: Tensor): boolean {
  return parameterSet.has(t);
}

// Disposed modules, with the dotted name each had under the module `dispose()` was called on.
const disposedAt = new WeakMap<Module, string>();

function disposedError(m: Module, path: string): Error {
  return new Error(
    `${m.constructor.name}${path ? ` "${path}"` : ''}: this module was disposed (dispose() freed its parameters and buffers) and cannot be used`,
  );
}

/**
 * A module's own enumerable data properties. A disposed module's tensors are getters that throw
 * (see `dispose`), so they are not read here: the tree stays walkable.
 */
function ownValues(m: Module): [string, unknown][] {
  return Object.entries(Object.getOwnPropertyDescriptors(m))
    .filter(([, d]) => d.enumerable && 'value' in d)
    .map(([key, d]) => [key, d.value]);
}

export interface LoadStateDictOptions {
  /** Missing or unexpected keys are errors (default true). Shape mismatches always are. */
  strict?: boolean;
}

/**
 * Base class of layers and models, like `torch.nn.Module`. Parameters, buffers and submodules
 * are found automatically: every own property holding a Tensor, a Module, or an array of Modules
 * (named `prop.0`, `prop.1`, ...), in the order they were assigned.
 */
export abstract class Module {
  /** Training mode (dropout active); switch with `train()` / `eval()`. */
  training = true;

  /** Direct children: [name, module]. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of ownValues(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value)) {
        value.forEach((v, i) => {
          if (v instanceof Module) out.push([`${key}.${i}`, v]);
        });
      }
    }
    return out;
  }

  /** Tensors held directly by this module: [name, tensor]. */
  private ownTensors(): [string, Tensor][] {
    const path = disposedAt.get(this);
    if (path !== undefined) throw disposedError(this, path);
    return ownValues(this).filter((e): e is [string, Tensor] => e[1] instanceof Tensor);
  }

  /** Every module in the tree, this one first, with dotted names. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren())
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** Parameters (trainable or frozen) with dotted names, e.g. `layers.0.attn.q_proj.weight`. */
  namedParameters(): [string, Tensor][] {
    return this.namedTensors().filter(([, t]) => parameterSet.has(t));
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Non-parameter tensors (e.g. precomputed tables), which the state dict also holds. */
  namedBuffers(): [string, Tensor][] {
    return this.namedTensors().filter(([, t]) => !parameterSet.has(t));
  }

  private namedTensors(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of m.ownTensors()) out.push([prefix ? `${prefix}.${name}` : name, t]);
    }
    return out;
  }

  /** Number of parameter elements (all, or only trainable ones). */
  numParameters(options: { trainableOnly?: boolean } = {}): number {
    checkOptions('numParameters', options, ['trainableOnly']);
    return this.parameters()
      .filter((p) => !options.trainableOnly || p.requiresGrad)
      .reduce((n, p) => n + p.size, 0);
  }

  /**
   * Frees every parameter (with its gradient) and buffer of this module and all below it — LoRA
   * adapters and the layers they wrap included — so that `device.memory()` drops by their
   * bytes. Idempotent. Afterwards each tensor property is a getter that throws, so any use of a
   * disposed module (a forward pass, `parameters()`, `stateDict()`, `save()`) is an error naming
   * the module, not a failure deep inside a kernel. Tensors passed in (`Linear`'s `weight`
   * option) belong to the module and are freed too; tensors held elsewhere (hidden from the
   * state dict) are the owner's to free.
   */
  dispose(): void {
    for (const [path, m] of this.namedModules()) {
      if (disposedAt.has(m)) continue;
      for (const [name, t] of m.ownTensors()) {
        t.grad?.dispose();
        t.grad = null;
        t.dispose();
        Object.defineProperty(m, name, {
          enumerable: true,
          configurable: true,
          get: () => {
            throw disposedError(m, path);
          },
        });
      }
      disposedAt.set(m, path);
    }
  }

  /** Sets training mode on this module and all below it. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Evaluation mode (`train(false)`): dropout becomes the identity. */
  eval(): this {
    return this.train(false);
  }

  /** Parameters and buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries(this.namedTensors());
  }

  /**
   * Copies values into this module's tensors in place. Strict by default: a missing or unexpected
   * key is an error naming it; a shape mismatch is always an error naming the key and both shapes.
   */
  loadStateDict(
    dict: Record<string, Tensor>,
    options: LoadStateDictOptions = {},
  ): { missing: string[]; unexpected: string[] } {
    checkOptions('loadStateDict', options, ['strict']);
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !(k in dict));
    const unexpected = Object.keys(dict).filter((k) => !(k in own));
    if (strict && (missing.length || unexpected.length)) {
      const parts = [
        missing.length ? `missing keys: ${missing.join(', ')}` : '',
        unexpected.length ? `unexpected keys: ${unexpected.join(', ')}` : '',
      ];
      throw new Error(`loadStateDict: ${parts.filter(Boolean).join('; ')}`);
    }
    for (const [key, target] of Object.entries(own)) {
      const source = dict[key];
      if (!source) continue;
      if (source.shape.join() !== target.shape.join()) {
        throw new RangeError(
          `loadStateDict: "${key}" has shape [${source.shape.join(', ')}] in the state dict but [${target.shape.join(', ')}] in the module`,
        );
      }
      noGrad(() => {
        const value = source.dtype === target.dtype ? source : cast(source, target.dtype);
        target.copy_(value);
        if (value !== source) value.dispose();
      });
    }
    return { missing, unexpected };
  }

  /** The state dict as safetensors bytes (with optional string metadata). */
  save(metadata?: Record<string, string>): Promise<Uint8Array> {
    return saveSafetensors(this.stateDict(), metadata);
  }

  /**
   * Loads safetensors bytes into this module (strict by default). `name` (a file name) is quoted
   * in every error about the bytes, e.g. `safetensors "run/model.safetensors": …`.
   */
  load(
    bytes: Uint8Array,
    options: LoadStateDictOptions & { device?: Device; name?: string } = {},
  ): void {
    checkOptions('load', options, ['strict', 'device', 'name']);
    const { device = this.parameters()[0]?.device, name, ...loadOptions } = options;
    const tensors = loadSafetensors(bytes, { device, name });
    try {
      this.loadStateDict(tensors, loadOptions);
    } finally {
      for (const t of Object.values(tensors)) t.dispose();
    }
  }
}
