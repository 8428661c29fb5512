// Creation, elementwise math, shape and reductions: PyTorch's semantics, names camelCased.
import { DType, Device, checkDType, checkDevice } from "./dtype.js";
import { h, hOpt, hs, w } from "./handles.js";
import { N } from "./native.js";
import { Generator } from "./random.js";
import { Tensor, type NestedArray, type Shape } from "./tensor.js";

export type Dims = number | readonly number[];
export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}
export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

// Options objects may be absent, undefined or null: all mean "defaults".
type Opt<T> = T | null | undefined;
function finish(t: Tensor, o: Opt<CreateOptions>): Tensor {
  return o?.requiresGrad ? t.requiresGrad_(true) : t;
}
const dt = (o: Opt<CreateOptions>, fallback: DType = "float32") => (o?.dtype == null ? fallback : checkDType(o.dtype));
const dev = (o: Opt<CreateOptions>) => (o?.device == null ? "cpu" : checkDevice(o.device));
function gen(o: Opt<RandomOptions>): number | undefined {
  if (o?.generator == null) return undefined;
  if (!(o.generator instanceof Generator)) throw new TypeError("generator: expected a torch.Generator");
  return o.generator.id;
}

// ---- creation ----

type Typed = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
const TYPED: [new (n: number) => Typed, DType][] = [
  [Float32Array, "float32"], [Float64Array, "float64"], [Int32Array, "int32"], [BigInt64Array, "int64"], [Uint8Array, "uint8"],
];
const ARRAY_FOR: Partial<Record<DType, new (n: number) => Typed>> = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array, bool: Uint8Array,
};

function flattenNested(data: NestedArray, shape: number[], out: (number | boolean)[], depth: number): void {
  if (Array.isArray(data)) {
    if (shape.length === depth) shape.push(data.length);
    else if (shape[depth] !== data.length) throw new TypeError(`tensor(): ragged nested array at depth ${depth}: expected length ${shape[depth]}, got ${data.length}`);
    for (const x of data) flattenNested(x, shape, out, depth + 1);
  } else {
    if (shape.length !== depth) throw new TypeError(`tensor(): ragged nested array: a scalar at depth ${depth}`);
    if (typeof data !== "number" && typeof data !== "boolean") throw new TypeError(`tensor(): expected numbers or booleans, got ${typeof data}`);
    out.push(data);
  }
}

/**
 * A tensor from nested arrays or a typed array (copied). Without a dtype, like PyTorch: booleans
 * give bool, integers int64, any fraction float32; typed arrays keep their own type.
 */
export function tensor(data: NestedArray | Typed, opts?: Opt<CreateOptions & { shape?: Shape }>): Tensor {
  let values: Typed;
  let source: DType;
  let shape: number[];
  if (ArrayBuffer.isView(data)) {
    const kind = TYPED.find(([C]) => data instanceof C);
    if (!kind) throw new TypeError("tensor(): unsupported typed array (use Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array)");
    [values, source, shape] = [data, kind[1], [data.length]];
  } else {
    const flat: (number | boolean)[] = [];
    shape = [];
    flattenNested(data, shape, flat, 0);
    const allBool = flat.length > 0 && flat.every((v) => typeof v === "boolean");
    const allInt = flat.length > 0 && flat.every((v) => typeof v === "boolean" || Number.isInteger(v));
    source = dt(opts, allBool ? "bool" : allInt ? "int64" : "float32");
    const C = ARRAY_FOR[source];
    if (!C) source = "float64";
    values = new (C ?? Float64Array)(flat.length);
    if (values instanceof BigInt64Array) flat.forEach((v, i) => ((values as BigInt64Array)[i] = BigInt(Math.trunc(Number(v)))));
    else (values as Float64Array).set(flat.map(Number));
  }
  if (opts?.shape) shape = [...opts.shape];
  let t = w(N.from_data(values, shape, source, "cpu"));
  const target = dt(opts, source);
  if (target !== source) t = replace(t, t.to(target));
  if (dev(opts) !== "cpu") t = replace(t, t.to(dev(opts)));
  return finish(t, opts);
}

function replace(old: Tensor, next: Tensor): Tensor {
  old.dispose();
  return next;
}

export const scalarTensor = (v: number, opts: CreateOptions = {}) => full([], v, { dtype: "float32", ...opts });
export const zeros = (shape: Shape, o?: Opt<CreateOptions>) => finish(w(N.zeros(shape, dt(o), dev(o))), o);
export const ones = (shape: Shape, o?: Opt<CreateOptions>) => finish(w(N.ones(shape, dt(o), dev(o))), o);
export const empty = (shape: Shape, o?: Opt<CreateOptions>) => finish(w(N.empty(shape, dt(o), dev(o))), o);
export const full = (shape: Shape, value: number | boolean, o?: Opt<CreateOptions>) =>
  finish(w(N.full(shape, value, dt(o, typeof value === "boolean" ? "bool" : "float32"), dev(o))), o);
/** The shape of t and options defaulting to its dtype and device. */
function like<O extends CreateOptions>(t: Tensor, o: Opt<O>): [Shape, O] {
  h(t, "input");
  return [t.shape, { dtype: t.dtype, device: t.device, ...o } as O];
}
export const zerosLike = (t: Tensor, o?: Opt<CreateOptions>) => zeros(...like(t, o));
export const onesLike = (t: Tensor, o?: Opt<CreateOptions>) => ones(...like(t, o));
export const emptyLike = (t: Tensor, o?: Opt<CreateOptions>) => empty(...like(t, o));
export const fullLike = (t: Tensor, value: number, o?: Opt<CreateOptions>) => {
  const [shape, opts] = like(t, o);
  return full(shape, value, opts);
};
export const randLike = (t: Tensor, o?: Opt<RandomOptions>) => rand(...like(t, o));
export const randnLike = (t: Tensor, o?: Opt<RandomOptions>) => randn(...like(t, o));

/** arange(end) or arange(start, end, step); integer arguments give int64 like PyTorch. */
export function arange(start: number, end?: number, step = 1, o?: Opt<CreateOptions>): Tensor {
  if (end === undefined) [start, end] = [0, start];
  const ints = [start, end, step].every(Number.isInteger);
  return finish(w(N.arange(start, end, step, dt(o, ints ? "int64" : "float32"), dev(o))), o);
}
export const linspace = (start: number, end: number, steps: number, o?: Opt<CreateOptions>) =>
  finish(w(N.linspace(start, end, steps, dt(o), dev(o))), o);
export const eye = (n: number, m = n, o?: Opt<CreateOptions>) => finish(w(N.eye(n, m, dt(o), dev(o))), o);

export const rand = (shape: Shape, o?: Opt<RandomOptions>) => finish(w(N.rand(shape, gen(o), dt(o), dev(o))), o);
export const randn = (shape: Shape, o?: Opt<RandomOptions>) => finish(w(N.randn(shape, gen(o), dt(o), dev(o))), o);
/** Integers uniform in [low, high). */
export const randint = (low: number, high: number, shape: Shape, o?: Opt<RandomOptions>) =>
  w(N.randint(low, high, shape, gen(o), dt(o, "int64"), dev(o)));
export const randperm = (n: number, o?: Opt<RandomOptions>) => w(N.randperm(n, gen(o), dt(o, "int64"), dev(o)));
/** Draws 0/1 with the probabilities in p. */
export const bernoulli = (p: Tensor, o?: Opt<{ generator?: Generator }>) => w(N.bernoulli(h(p), gen(o)));

// ---- shape ----
export const reshape = (t: Tensor, shape: Shape) => w(N.reshape(h(t), shape));
export const view = (t: Tensor, shape: Shape) => w(N.view(h(t), shape));
export const permute = (t: Tensor, dims: Shape) => w(N.permute(h(t), dims));
export const transpose = (t: Tensor, d0: number, d1: number) => w(N.transpose(h(t), d0, d1));
export const squeeze = (t: Tensor, dim?: number) => w(N.squeeze(h(t), dim));
export const unsqueeze = (t: Tensor, dim: number) => w(N.unsqueeze(h(t), dim));
export const expand = (t: Tensor, shape: Shape) => w(N.expand(h(t), shape));
export const repeat = (t: Tensor, times: Shape) => w(N.repeat(h(t), times));
export const cat = (ts: readonly Tensor[], dim = 0) => w(N.cat(hs(ts), dim));
export const stack = (ts: readonly Tensor[], dim = 0) => w(N.stack(hs(ts), dim));
export const split = (t: Tensor, sizes: number | readonly number[], dim = 0) =>
  (typeof sizes === "number" ? N.split(h(t), sizes, dim) : N.split_with_sizes(h(t), sizes, dim)).map(w);
export const chunk = (t: Tensor, chunks: number, dim = 0) => N.chunk(h(t), chunks, dim).map(w);
export const narrow = (t: Tensor, dim: number, start: number, length: number) => w(N.narrow(h(t), dim, start, length));
export const select = (t: Tensor, dim: number, index: number) => w(N.select(h(t), dim, index));
export const slice = (t: Tensor, dim: number, start?: number, end?: number, step = 1) => w(N.slice(h(t), dim, start, end, step));
export const indexSelect = (t: Tensor, dim: number, index: Tensor) => w(N.index_select(h(t), dim, h(index)));
export const gather = (t: Tensor, dim: number, index: Tensor) => w(N.gather(h(t), dim, h(index)));
export const scatter = (t: Tensor, dim: number, index: Tensor, src: Tensor | number) =>
  w(typeof src === "number" ? N.scatter_value(h(t), dim, h(index), src) : N.scatter(h(t), dim, h(index), h(src)));
export const maskedFill = (t: Tensor, mask: Tensor, value: number | boolean) => w(N.masked_fill(h(t), h(mask), value));
export const maskedSelect = (t: Tensor, mask: Tensor) => w(N.masked_select(h(t), h(mask)));
export const where = (cond: Tensor, a: Tensor, b: Tensor) => w(N.where(h(cond), h(a), h(b)));
export const flip = (t: Tensor, dims: Shape) => w(N.flip(h(t), dims));
export const roll = (t: Tensor, shifts: number | readonly number[], dims: number | readonly number[]) => w(N.roll(h(t), shifts, dims));
export function flatten(t: Tensor, startDim = 0, endDim = -1): Tensor {
  return w(N.flatten(h(t), startDim, endDim));
}
export const contiguous = (t: Tensor) => w(N.contiguous(h(t)));

// ---- elementwise ----
type Operand = Tensor | number;
const num = (x: Operand): x is number => typeof x === "number";
export const add = (a: Tensor, b: Operand, alpha = 1) => w(num(b) ? N.add_scalar(h(a), b, alpha) : N.add(h(a), h(b), alpha));
export const sub = (a: Tensor, b: Operand, alpha = 1) => w(num(b) ? N.sub_scalar(h(a), b, alpha) : N.sub(h(a), h(b), alpha));
export const mul = (a: Tensor, b: Operand) => w(num(b) ? N.mul_scalar(h(a), b) : N.mul(h(a), h(b)));
export const div = (a: Tensor, b: Operand) => w(num(b) ? N.div_scalar(h(a), b) : N.div(h(a), h(b)));
/** pow(tensor, tensor|number) or pow(number, tensor). */
export function pow(a: Operand, b: Operand): Tensor {
  if (num(a)) return w(N.pow_scalar_base(a, h(b as Tensor)));
  return w(num(b) ? N.pow_scalar(h(a), b) : N.pow(h(a), h(b)));
}
export const minimum = (a: Tensor, b: Tensor) => w(N.minimum(h(a), h(b)));
export const maximum = (a: Tensor, b: Tensor) => w(N.maximum(h(a), h(b)));
export const atan2 = (a: Tensor, b: Tensor) => w(N.atan2(h(a), h(b)));
export const neg = (t: Tensor) => w(N.neg(h(t)));
export const abs = (t: Tensor) => w(N.abs(h(t)));
export const sign = (t: Tensor) => w(N.sign(h(t)));
export const exp = (t: Tensor) => w(N.exp(h(t)));
export const log = (t: Tensor) => w(N.log(h(t)));
export const log1p = (t: Tensor) => w(N.log1p(h(t)));
export const sqrt = (t: Tensor) => w(N.sqrt(h(t)));
export const rsqrt = (t: Tensor) => w(N.rsqrt(h(t)));
export const sin = (t: Tensor) => w(N.sin(h(t)));
export const cos = (t: Tensor) => w(N.cos(h(t)));
export const tanh = (t: Tensor) => w(N.tanh(h(t)));
export const sigmoid = (t: Tensor) => w(N.sigmoid(h(t)));
export const square = (t: Tensor) => w(N.square(h(t)));
export const reciprocal = (t: Tensor) => w(N.reciprocal(h(t)));
export const floor = (t: Tensor) => w(N.floor(h(t)));
export const ceil = (t: Tensor) => w(N.ceil(h(t)));
export const round = (t: Tensor) => w(N.round(h(t)));
export const relu = (t: Tensor) => w(N.relu(h(t)));
export const isfinite = (t: Tensor) => w(N.isfinite(h(t)));
export const isnan = (t: Tensor) => w(N.isnan(h(t)));
export const real = (t: Tensor) => w(N.real(h(t)));
export const imag = (t: Tensor) => w(N.imag(h(t)));
export const angle = (t: Tensor) => w(N.angle(h(t)));
export const conj = (t: Tensor) => w(N.conj(h(t)));
export const viewAsReal = (t: Tensor) => w(N.view_as_real(h(t)));
export const viewAsComplex = (t: Tensor) => w(N.view_as_complex(h(t)));
export const complex = (re: Tensor, im: Tensor) => w(N.complex(h(re), h(im)));

type Bound = Tensor | number | null | undefined;
/** Clamp bounds must be both numbers or both tensors (absent ones are null). */
export function clampBounds(min: Bound, max: Bound): [any, any, boolean] {
  const tensors = min instanceof Tensor || max instanceof Tensor;
  if (tensors && (typeof min === "number" || typeof max === "number")) throw new TypeError("clamp: min and max must both be tensors or both numbers");
  return tensors ? [hOpt(min as Tensor | null, "min"), hOpt(max as Tensor | null, "max"), true] : [min, max, false];
}
export function clamp(t: Tensor, min?: Bound, max?: Bound): Tensor {
  const [lo, hi, tensors] = clampBounds(min, max);
  return w(tensors ? N.clamp_tensor(h(t), lo, hi) : N.clamp(h(t), lo, hi));
}

// The op names, not the functions: N is looked up at call time (the addon loads on first use).
const cmp = (tt: "eq" | "ne" | "lt" | "le" | "gt" | "ge") =>
  (a: Tensor, b: Operand) => w(num(b) ? N[`${tt}_scalar`](h(a), b) : N[tt](h(a), h(b)));
export const eq = cmp("eq");
export const ne = cmp("ne");
export const lt = cmp("lt");
export const le = cmp("le");
export const gt = cmp("gt");
export const ge = cmp("ge");
export const logicalAnd = (a: Tensor, b: Tensor) => w(N.logical_and(h(a), h(b)));
export const logicalOr = (a: Tensor, b: Tensor) => w(N.logical_or(h(a), h(b)));
export const logicalXor = (a: Tensor, b: Tensor) => w(N.logical_xor(h(a), h(b)));
export const logicalNot = (t: Tensor) => w(N.logical_not(h(t)));
export const allclose = (a: Tensor, b: Tensor, rtol = 1e-5, atol = 1e-8, equalNan = false) => N.allclose(h(a), h(b), rtol, atol, equalNan);
export const equal = (a: Tensor, b: Tensor) => N.equal(h(a), h(b));

// ---- reductions ----
export interface VarOptions {
  /** Bessel's correction (1 = unbiased, PyTorch's default). */
  correction?: number;
  keepdim?: boolean;
}
export const sum = (t: Tensor, dim?: Dims, keepdim = false, dtype?: DType) => w(N.sum(h(t), dim, keepdim, dtype));
export const mean = (t: Tensor, dim?: Dims, keepdim = false, dtype?: DType) => w(N.mean(h(t), dim, keepdim, dtype));
export const prod = (t: Tensor, dim?: number, keepdim = false) => w(N.prod(h(t), dim, keepdim));
export const std = (t: Tensor, dim?: Dims, o?: Opt<VarOptions>) => w(N.std(h(t), dim, o?.correction ?? 1, o?.keepdim ?? false));
export const variance = (t: Tensor, dim?: Dims, o?: Opt<VarOptions>) => w(N.var(h(t), dim, o?.correction ?? 1, o?.keepdim ?? false));
export const min = (t: Tensor) => w(N.min(h(t)));
export const max = (t: Tensor) => w(N.max(h(t)));
/** Values and indices of the minimum along dim. */
export function minDim(t: Tensor, dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
  const [values, indices] = N.min_dim(h(t), dim, keepdim).map(w);
  return { values: values!, indices: indices! };
}
export function maxDim(t: Tensor, dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
  const [values, indices] = N.max_dim(h(t), dim, keepdim).map(w);
  return { values: values!, indices: indices! };
}
export const amax = (t: Tensor, dim: Dims, keepdim = false) => w(N.amax(h(t), dim, keepdim));
export const amin = (t: Tensor, dim: Dims, keepdim = false) => w(N.amin(h(t), dim, keepdim));
export const argmax = (t: Tensor, dim?: number, keepdim = false) => w(N.argmax(h(t), dim, keepdim));
export const argmin = (t: Tensor, dim?: number, keepdim = false) => w(N.argmin(h(t), dim, keepdim));
export const any = (t: Tensor) => w(N.any(h(t)));
export const all = (t: Tensor) => w(N.all(h(t)));
/** Vector p-norm over dims (all elements when dims is absent); p may be Infinity or -Infinity. */
export const norm = (t: Tensor, p = 2, dim?: Dims, keepdim = false) => w(N.vector_norm(h(t), p, dim, keepdim));
export const logsumexp = (t: Tensor, dim: Dims, keepdim = false) => w(N.logsumexp(h(t), dim, keepdim));
export function topk(t: Tensor, k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
  const [values, indices] = N.topk(h(t), k, dim, largest, sorted).map(w);
  return { values: values!, indices: indices! };
}
export function sort(t: Tensor, dim = -1, descending = false): { values: Tensor; indices: Tensor } {
  const [values, indices] = N.sort(h(t), dim, descending).map(w);
  return { values: values!, indices: indices! };
}
export const cumsum = (t: Tensor, dim: number, dtype?: DType) => w(N.cumsum(h(t), dim, dtype));

// ---- products (more in linalg) ----
export const matmul = (a: Tensor, b: Tensor) => w(N.matmul(h(a), h(b)));
export const bmm = (a: Tensor, b: Tensor) => w(N.bmm(h(a), h(b)));
export const einsum = (equation: string, ...ts: Tensor[]) => w(N.einsum(equation, hs(ts)));
export const softmax = (t: Tensor, dim: number, dtype?: DType) => w(N.softmax(h(t), dim, dtype));
export const logSoftmax = (t: Tensor, dim: number, dtype?: DType) => w(N.log_softmax(h(t), dim, dtype));
