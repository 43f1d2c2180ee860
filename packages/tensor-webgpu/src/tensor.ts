import { backward } from './autograd.js';
import type { Storage, TensorLayout } from './backend.js';
import type { Device } from './device.js';
import type { DType } from './dtype.js';
import type { Operand } from './ops/binary.js';
import * as ops from './ops/index.js';
import type { ReduceOptions } from './ops/reduce.js';
import { noGrad, track } from './scope.js';
import { contiguousStrides, formatShape, type Shape, sizeOf } from './shape.js';

/** Nested arrays of numbers, as `toArray()` returns them. */
export type NestedNumbers = number | NestedNumbers[];

/** How autograd remembers the op that produced a tensor. */
export interface GradNode {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  /** Outputs of the op (held, so that a backward rule can read one the caller dropped). */
  readonly outputs: readonly Tensor[];
  /** Gradients of the inputs (null where none) from the gradients of the outputs. */
  readonly backward: (grads: readonly (Tensor | null)[]) => readonly (Tensor | null | undefined)[];
}

// Frees the storage of a tensor the program dropped without dispose() (the backstop).
const collector = new FinalizationRegistry<{ device: Device; storage: Storage }>(
  ({ device, storage }) => {
    device.liveTensors--;
    if (--storage.refs === 0) device.release(storage);
  },
);

/**
 * An n-dimensional array on a device. Ops never modify their inputs; the few in-place methods
 * end in `_`. Views (reshape, transpose, expand, slice) share storage with their source.
 */
export class Tensor implements TensorLayout {
  /** Set to true to make autograd compute `grad` for this tensor in `backward()`. */
  requiresGrad = false;
  /** Accumulated gradient, set by `backward()` on tensors with `requiresGrad`. */
  grad: Tensor | null = null;
  /** @internal The op that produced this tensor, when autograd recorded it. */
  node: GradNode | undefined;
  private disposed = false;

  /** @internal Use the creation functions (`tensor`, `zeros`, ...) instead. */
  constructor(
    readonly device: Device,
    /** @internal */ readonly storage: Storage,
    readonly shape: Shape,
    readonly dtype: DType,
    readonly strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
  ) {
    device.liveTensors++;
    collector.register(this, { device, storage }, this);
    track(this);
  }

  /** @internal A view sharing this tensor's storage with another layout. */
  view(shape: Shape, strides: readonly number[], offset: number): Tensor {
    this.assertAlive('view');
    this.storage.refs++;
    return new Tensor(this.device, this.storage, shape, this.dtype, strides, offset);
  }

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** True when elements are laid out row-major with no gaps from `offset`. */
  get isContiguous(): boolean {
    const expected = contiguousStrides(this.shape);
    return this.shape.every((d, i) => d === 1 || this.strides[i] === expected[i]);
  }

  /** @internal Throws a clear error when an op receives a disposed tensor. */
  assertAlive(op: string): void {
    if (this.disposed) {
      throw new Error(
        `${op}: tensor of shape ${formatShape(this.shape)} (${this.dtype}) was disposed and cannot be used`,
      );
    }
  }

  /** Frees the tensor's storage (shared storage is freed when its last view goes). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    collector.unregister(this);
    this.device.liveTensors--;
    if (--this.storage.refs === 0) this.device.release(this.storage);
    this.grad = null;
    this.node = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * The elements in row-major order, copied to the host (waits for pending GPU work).
   *
   * @throws RangeError - a check that a kernel failed on the device since the last read (an
   *   index out of range in `gather`/`embedding`, a class target out of range in `crossEntropy`),
   *   naming the op — the error the CPU backend throws when the op is called
   */
  async data(): Promise<Float32Array | Int32Array | Uint32Array> {
    this.assertAlive('data');
    if (this.isContiguous)
      return this.device.read(this.storage, this.dtype, this.offset, this.size);
    const packed = noGrad(() => ops.contiguous(this));
    try {
      return await this.device.read(packed.storage, this.dtype, 0, this.size);
    } finally {
      packed.dispose();
    }
  }

  /** The elements as nested arrays (a number for a 0-d tensor). */
  async toArray(): Promise<NestedNumbers> {
    const flat = Array.from(await this.data());
    const build = (dim: number, at: number): NestedNumbers => {
      if (dim === this.rank) return flat[at]!;
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, at + i * stride));
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1)
      throw new RangeError(
        `item: expected a tensor with one element, got shape ${formatShape(this.shape)}`,
      );
    return (await this.data())[0]!;
  }

  /** Computes gradients of this (scalar) tensor into `.grad` of every leaf with requiresGrad. */
  backward(grad?: Tensor): void {
    backward(this, grad);
  }

  /** A view that shares storage but is cut from the autograd graph. */
  detach(): Tensor {
    return this.view(this.shape, this.strides, this.offset);
  }

  /** Sets `requiresGrad` and returns this tensor (for chaining). */
  requiresGrad_(value = true): this {
    if (this.node && !value)
      throw new Error('requiresGrad_: cannot turn off grad for a non-leaf tensor; use detach()');
    this.requiresGrad = value;
    return this;
  }

  add(b: Operand): Tensor {
    return ops.add(this, b);
  }
  sub(b: Operand): Tensor {
    return ops.sub(this, b);
  }
  mul(b: Operand): Tensor {
    return ops.mul(this, b);
  }
  div(b: Operand): Tensor {
    return ops.div(this, b);
  }
  pow(b: Operand): Tensor {
    return ops.pow(this, b);
  }
  maximum(b: Operand): Tensor {
    return ops.maximum(this, b);
  }
  minimum(b: Operand): Tensor {
    return ops.minimum(this, b);
  }
  neg(): Tensor {
    return ops.neg(this);
  }
  abs(): Tensor {
    return ops.abs(this);
  }
  exp(): Tensor {
    return ops.exp(this);
  }
  log(): Tensor {
    return ops.log(this);
  }
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  square(): Tensor {
    return ops.square(this);
  }
  tanh(): Tensor {
    return ops.tanh(this);
  }
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  relu(): Tensor {
    return ops.relu(this);
  }
  matmul(b: Tensor): Tensor {
    return ops.matmul(this, b);
  }
  sum(axes?: number | readonly number[], options?: ReduceOptions): Tensor {
    return ops.sum(this, axes, options);
  }
  mean(axes?: number | readonly number[], options?: ReduceOptions): Tensor {
    return ops.mean(this, axes, options);
  }
  max(axes?: number | readonly number[], options?: ReduceOptions): Tensor {
    return ops.max(this, axes, options);
  }
  min(axes?: number | readonly number[], options?: ReduceOptions): Tensor {
    return ops.min(this, axes, options);
  }
  reshape(shape: readonly number[]): Tensor {
    return ops.reshape(this, shape);
  }
  transpose(dim0?: number, dim1?: number): Tensor {
    return ops.transpose(this, dim0, dim1);
  }
  permute(dims: readonly number[]): Tensor {
    return ops.permute(this, dims);
  }
  expand(shape: readonly number[]): Tensor {
    return ops.expand(this, shape);
  }
  contiguous(): Tensor {
    return ops.contiguous(this);
  }
  /** Overwrites this tensor's elements with `source` (broadcast), in place. */
  copy_(source: Tensor): this {
    ops.copy_(this, source);
    return this;
  }
  /**
   * In-place `this += b` (and `sub_`, `mul_`, `div_`), for optimizers: computed into a pooled
   * temporary and copied back, so a training loop allocates nothing new. Outside autograd.
   */
  add_(b: Operand): this {
    return this.update_(ops.add, b);
  }
  sub_(b: Operand): this {
    return this.update_(ops.sub, b);
  }
  mul_(b: Operand): this {
    return this.update_(ops.mul, b);
  }
  div_(b: Operand): this {
    return this.update_(ops.div, b);
  }
  /** Sets every element to zero, in place. */
  zero_(): this {
    return this.update_(ops.mul, 0);
  }

  private update_(op: (a: Tensor, b: Operand) => Tensor, b: Operand): this {
    noGrad(() => {
      const next = op(this, b);
      ops.copy_(this, next);
      next.dispose();
    });
    return this;
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}, ${this.device.backend}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}
