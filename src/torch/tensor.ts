import { DType, Device, checkDType, checkDevice } from "./dtype.js";
import { h } from "./handles.js";
import { N } from "./native.js";
import * as ops from "./ops.js";
import { track, type Scope } from "./scope.js";
import * as fft from "./fft.js";

// The safety net for tensors nobody disposed: scopes are the contract, this only bounds leaks.
// Registering costs about as much as a small op, so tensors owned by a tidy() scope are only
// registered if they outlive every scope (see scope.ts).
const leaks = new FinalizationRegistry<number>((id) => {
  try {
    N.free(id);
  } catch {
    // already freed by the environment's teardown
  }
});

export type Shape = readonly number[];
export type NestedArray = number | boolean | NestedArray[];

/**
 * A handle to a libtorch tensor. Free it with dispose() (or `using`), or create it inside tidy().
 * Methods mirror PyTorch's (camelCased); in-place ones end in `_` and return this tensor.
 */
export class Tensor {
  #id: number;
  #shape?: Shape;
  #dtype?: DType;
  #device?: Device;
  #watched = false;
  /** The tidy() scope that will dispose this tensor (internal to scope.ts). */
  owner: Scope | undefined;

  /** Wraps a native handle; use the creation functions instead. */
  constructor(id: number) {
    this.#id = id;
    this.owner = track(this);
    if (!this.owner) this.watchForLeak();
  }

  /** Lets the garbage collector free this tensor if it is dropped undisposed. */
  watchForLeak(): void {
    if (this.#watched || this.#id < 0) return;
    leaks.register(this, this.#id, this);
    N.watch_memory(this.#id);
    this.#watched = true;
  }

  /** The native handle (throws once disposed). */
  get id(): number {
    if (this.#id < 0) throw new TypeError("this Tensor has been disposed");
    return this.#id;
  }

  get isDisposed(): boolean {
    return this.#id < 0;
  }

  dispose(): void {
    if (this.#id < 0) return;
    if (this.#watched) leaks.unregister(this);
    N.free(this.#id);
    this.#id = -1;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- metadata (fixed for a tensor's life, so read once) ----
  get shape(): Shape {
    return (this.#shape ??= Object.freeze(N.shape(this.id)));
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get dtype(): DType {
    return (this.#dtype ??= N.dtype(this.id) as DType);
  }
  get device(): Device {
    return (this.#device ??= N.device(this.id) as Device);
  }
  size(dim?: number): number | Shape {
    if (dim === undefined) return this.shape;
    if (!Number.isInteger(dim)) throw new TypeError(`size(dim): dim must be an integer, got ${String(dim)}`);
    const d = dim < 0 ? dim + this.ndim : dim;
    const s = this.shape[d];
    if (s === undefined) throw new RangeError(`size(${dim}): tensor has ${this.ndim} dimensions`);
    return s;
  }

  // ---- read back ----
  item(): number {
    return N.item(this.id);
  }
  /** A copy of the data: Float32Array, Float64Array, BigInt64Array (int64), Int32Array, Uint8Array (uint8, bool); complex64 interleaved (re, im) in a Float32Array; bfloat16 and float16 as their bits in a Uint16Array. */
  toTypedArray(): Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array {
    return N.to_data(this.id);
  }
  /** Nested JS arrays of numbers (int64 as numbers) or booleans. */
  toArray(): NestedArray {
    const dt = this.dtype;
    if (dt === "bfloat16" || dt === "float16") {
      const wide = this.to("float32");
      try {
        return wide.toArray();
      } finally {
        wide.dispose();
      }
    }
    const data = this.toTypedArray();
    if (dt === "complex64") throw new TypeError("toArray(): complex tensors have no plain-number form; use viewAsReal()");
    const flat: (number | boolean)[] = Array.from(data as ArrayLike<number | bigint>, (v) =>
      dt === "bool" ? v !== 0 : Number(v),
    );
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.ndim) return flat[offset]!;
      const n = this.shape[dim]!;
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: n }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }
  toString(): string {
    if (this.isDisposed) return "Tensor(disposed)";
    const meta = `shape=[${this.shape.join(", ")}], dtype=${this.dtype}${this.device === "cpu" ? "" : `, device=${this.device}`}`;
    if (this.numel > 1000 || this.dtype === "complex64") return `tensor(${meta})`;
    const fmt = (x: NestedArray, indent: number): string =>
      Array.isArray(x)
        ? `[${x.map((v) => fmt(v, indent + 1)).join(Array.isArray(x[0]) ? `,\n${" ".repeat(indent + 1)}` : ", ")}]`
        : typeof x === "boolean"
          ? String(x)
          : this.dtype === "float32" || this.dtype === "float64"
            ? x.toFixed(4)
            : String(x);
    return `tensor(${fmt(this.toArray(), 7)}, ${meta})`;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // ---- dtype, device, autograd ----
  to(target: DType | Device): Tensor {
    return target === "cpu" || (typeof target === "string" && target.startsWith("cuda"))
      ? new Tensor(N.to_device(this.id, checkDevice(target)))
      : new Tensor(N.to_dtype(this.id, checkDType(target)));
  }
  float(): Tensor { return this.to("float32"); }
  double(): Tensor { return this.to("float64"); }
  long(): Tensor { return this.to("int64"); }
  cpu(): Tensor { return this.to("cpu"); }
  cuda(): Tensor { return this.to("cuda"); }
  clone(): Tensor { return new Tensor(N.clone(this.id)); }
  contiguous(): Tensor { return new Tensor(N.contiguous(this.id)); }
  detach(): Tensor { return new Tensor(N.detach(this.id)); }
  get requiresGrad(): boolean { return N.requires_grad(this.id); }
  get isLeaf(): boolean { return N.is_leaf(this.id); }
  requiresGrad_(flag = true): this {
    N.requires_grad_(this.id, flag);
    return this;
  }
  /** The accumulated gradient (a new handle each read), or undefined. */
  get grad(): Tensor | undefined {
    const g = N.grad(this.id);
    return g === null ? undefined : new Tensor(g);
  }
  set grad(g: Tensor | undefined) {
    N.set_grad(this.id, g == null ? undefined : h(g, "grad"));
  }
  backward(gradient?: Tensor, opts?: { retainGraph?: boolean; createGraph?: boolean } | null): void {
    N.backward(this.id, gradient == null ? undefined : h(gradient, "gradient"), opts?.retainGraph, opts?.createGraph ?? false);
  }

  // ---- shape ----
  reshape(...shape: number[]): Tensor { return ops.reshape(this, shape); }
  view(...shape: number[]): Tensor { return ops.view(this, shape); }
  flatten(startDim = 0, endDim = -1): Tensor { return ops.flatten(this, startDim, endDim); }
  permute(...dims: number[]): Tensor { return ops.permute(this, dims); }
  transpose(d0: number, d1: number): Tensor { return ops.transpose(this, d0, d1); }
  get T(): Tensor { return this.ndim < 2 ? this.clone() : ops.permute(this, [...this.shape.keys()].reverse()); }
  squeeze(dim?: number): Tensor { return ops.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return ops.unsqueeze(this, dim); }
  expand(...shape: number[]): Tensor { return ops.expand(this, shape); }
  expandAs(other: Tensor): Tensor { return ops.expand(this, (h(other, "other"), other.shape)); }
  repeat(...times: number[]): Tensor { return ops.repeat(this, times); }
  split(sizes: number | readonly number[], dim = 0): Tensor[] { return ops.split(this, sizes, dim); }
  chunk(chunks: number, dim = 0): Tensor[] { return ops.chunk(this, chunks, dim); }
  narrow(dim: number, start: number, length: number): Tensor { return ops.narrow(this, dim, start, length); }
  select(dim: number, index: number): Tensor { return ops.select(this, dim, index); }
  slice(dim: number, start?: number, end?: number, step = 1): Tensor { return ops.slice(this, dim, start, end, step); }
  indexSelect(dim: number, index: Tensor): Tensor { return ops.indexSelect(this, dim, index); }
  gather(dim: number, index: Tensor): Tensor { return ops.gather(this, dim, index); }
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor { return ops.scatter(this, dim, index, src); }
  maskedFill(mask: Tensor, value: number | boolean): Tensor { return ops.maskedFill(this, mask, value); }
  maskedSelect(mask: Tensor): Tensor { return ops.maskedSelect(this, mask); }
  flip(...dims: number[]): Tensor { return ops.flip(this, dims); }
  roll(shifts: number | readonly number[], dims: number | readonly number[]): Tensor { return ops.roll(this, shifts, dims); }

  // ---- math ----
  add(other: Tensor | number, alpha = 1): Tensor { return ops.add(this, other, alpha); }
  sub(other: Tensor | number, alpha = 1): Tensor { return ops.sub(this, other, alpha); }
  mul(other: Tensor | number): Tensor { return ops.mul(this, other); }
  div(other: Tensor | number): Tensor { return ops.div(this, other); }
  pow(exponent: Tensor | number): Tensor { return ops.pow(this, exponent); }
  minimum(other: Tensor): Tensor { return ops.minimum(this, other); }
  maximum(other: Tensor): Tensor { return ops.maximum(this, other); }
  atan2(other: Tensor): Tensor { return ops.atan2(this, other); }
  neg(): Tensor { return ops.neg(this); }
  abs(): Tensor { return ops.abs(this); }
  sign(): Tensor { return ops.sign(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  rsqrt(): Tensor { return ops.rsqrt(this); }
  sin(): Tensor { return ops.sin(this); }
  cos(): Tensor { return ops.cos(this); }
  tanh(): Tensor { return ops.tanh(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  square(): Tensor { return ops.square(this); }
  floor(): Tensor { return ops.floor(this); }
  ceil(): Tensor { return ops.ceil(this); }
  reciprocal(): Tensor { return ops.reciprocal(this); }
  log1p(): Tensor { return ops.log1p(this); }
  round(): Tensor { return ops.round(this); }
  relu(): Tensor { return ops.relu(this); }
  clamp(min?: Tensor | number | null, max?: Tensor | number | null): Tensor { return ops.clamp(this, min, max); }
  real(): Tensor { return ops.real(this); }
  imag(): Tensor { return ops.imag(this); }
  angle(): Tensor { return ops.angle(this); }
  conj(): Tensor { return ops.conj(this); }
  viewAsReal(): Tensor { return ops.viewAsReal(this); }
  eq(other: Tensor | number): Tensor { return ops.eq(this, other); }
  ne(other: Tensor | number): Tensor { return ops.ne(this, other); }
  lt(other: Tensor | number): Tensor { return ops.lt(this, other); }
  le(other: Tensor | number): Tensor { return ops.le(this, other); }
  gt(other: Tensor | number): Tensor { return ops.gt(this, other); }
  ge(other: Tensor | number): Tensor { return ops.ge(this, other); }
  logicalAnd(other: Tensor): Tensor { return ops.logicalAnd(this, other); }
  logicalOr(other: Tensor): Tensor { return ops.logicalOr(this, other); }
  logicalNot(): Tensor { return ops.logicalNot(this); }
  allclose(other: Tensor, rtol?: number, atol?: number): boolean { return ops.allclose(this, other, rtol, atol); }

  // ---- reductions ----
  sum(dim?: ops.Dims, keepdim = false): Tensor { return ops.sum(this, dim, keepdim); }
  mean(dim?: ops.Dims, keepdim = false): Tensor { return ops.mean(this, dim, keepdim); }
  std(dim?: ops.Dims, opts?: ops.VarOptions): Tensor { return ops.std(this, dim, opts); }
  var(dim?: ops.Dims, opts?: ops.VarOptions): Tensor { return ops.variance(this, dim, opts); }
  min(): Tensor { return ops.min(this); }
  max(): Tensor { return ops.max(this); }
  amax(dim: ops.Dims, keepdim = false): Tensor { return ops.amax(this, dim, keepdim); }
  amin(dim: ops.Dims, keepdim = false): Tensor { return ops.amin(this, dim, keepdim); }
  argmax(dim?: number, keepdim = false): Tensor { return ops.argmax(this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return ops.argmin(this, dim, keepdim); }
  norm(p: number = 2, dim?: ops.Dims, keepdim = false): Tensor { return ops.norm(this, p, dim, keepdim); }
  logsumexp(dim: ops.Dims, keepdim = false): Tensor { return ops.logsumexp(this, dim, keepdim); }
  cumsum(dim: number): Tensor { return ops.cumsum(this, dim); }
  matmul(other: Tensor): Tensor { return ops.matmul(this, other); }
  softmax(dim: number): Tensor { return ops.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return ops.logSoftmax(this, dim); }
  fft2(opts?: fft.FftOptions): Tensor { return fft.fft2(this, opts); }

  // ---- in place ----
  add_(other: Tensor | number, alpha = 1): this {
    if (typeof other === "number") N.add_scalar_(this.id, other, alpha);
    else N.add_(this.id, h(other, "other"), alpha);
    return this;
  }
  sub_(other: Tensor | number, alpha = 1): this {
    if (typeof other === "number") N.sub_scalar_(this.id, other, alpha);
    else N.sub_(this.id, h(other, "other"), alpha);
    return this;
  }
  mul_(other: Tensor | number): this {
    if (typeof other === "number") N.mul_scalar_(this.id, other);
    else N.mul_(this.id, h(other, "other"));
    return this;
  }
  div_(other: Tensor | number): this {
    if (typeof other === "number") N.div_scalar_(this.id, other);
    else N.div_(this.id, h(other, "other"));
    return this;
  }
  copy_(src: Tensor): this {
    N.copy_(this.id, h(src, "src"));
    return this;
  }
  zero_(): this {
    N.zero_(this.id);
    return this;
  }
  fill_(value: number | boolean): this {
    N.fill_(this.id, value);
    return this;
  }
  clamp_(min?: Tensor | number | null, max?: Tensor | number | null): this {
    const [lo, hi, tensors] = ops.clampBounds(min, max);
    if (tensors) N.clamp_tensor_(this.id, lo, hi);
    else N.clamp_(this.id, lo, hi);
    return this;
  }
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this {
    N.addcmul_(this.id, h(t1, "tensor1"), h(t2, "tensor2"), value);
    return this;
  }
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this {
    N.addcdiv_(this.id, h(t1, "tensor1"), h(t2, "tensor2"), value);
    return this;
  }
}
