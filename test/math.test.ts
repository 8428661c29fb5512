import assert from "node:assert/strict";
import { test } from "node:test";
import { torch } from "../src/index.js";
import type { Tensor } from "../src/torch/index.js";
import { assertClose, f64, gradcheck, uniform, values } from "./helpers.js";

const { tidy } = torch;

test("elementwise unary ops match JS Math in float64", () => tidy(() => {
  const xs = uniform(50, 1, 0.1, 3);
  const x = torch.tensor(new Float64Array(xs));
  const cases: [string, (t: Tensor) => Tensor, (v: number) => number][] = [
    ["neg", torch.neg, (v) => -v], ["abs", (t) => torch.abs(t.neg()), (v) => v], ["exp", torch.exp, Math.exp],
    ["log", torch.log, Math.log], ["sqrt", torch.sqrt, Math.sqrt], ["rsqrt", torch.rsqrt, (v) => 1 / Math.sqrt(v)],
    ["sin", torch.sin, Math.sin], ["cos", torch.cos, Math.cos], ["tanh", torch.tanh, Math.tanh],
    ["sigmoid", torch.sigmoid, (v) => 1 / (1 + Math.exp(-v))], ["square", torch.square, (v) => v * v],
    ["log1p", torch.log1p, Math.log1p], ["reciprocal", torch.reciprocal, (v) => 1 / v], ["floor", torch.floor, Math.floor],
  ];
  for (const [name, f, ref] of cases) assertClose(f(x), xs.map(ref), 1e-12, name);
  assert.deepEqual(values(torch.sign(torch.tensor([-2, 0, 3.5]))), [-1, 0, 1]);
  assert.deepEqual(values(torch.relu(torch.tensor([-2, 0, 3.5]))), [0, 0, 3.5]);
}));

test("binary ops broadcast, take scalars, and keep PyTorch's type promotion", () => tidy(() => {
  const a = torch.tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float64" });
  const b = torch.tensor([10, 20, 30], { dtype: "float64" });
  assert.deepEqual(a.add(b).toArray(), [[11, 22, 33], [14, 25, 36]]);
  assert.deepEqual(a.add(b, 2).toArray(), [[21, 42, 63], [24, 45, 66]]);
  assert.deepEqual(a.sub(1).toArray(), [[0, 1, 2], [3, 4, 5]]);
  assert.deepEqual(a.mul(b.unsqueeze(0)).toArray(), [[10, 40, 90], [40, 100, 180]]);
  assertClose(a.div(b), [0.1, 0.1, 0.1, 0.4, 0.25, 0.2], 1e-12);
  assert.deepEqual(a.pow(2).toArray(), [[1, 4, 9], [16, 25, 36]]);
  assert.deepEqual(torch.pow(2, a).toArray(), [[2, 4, 8], [16, 32, 64]]);
  assert.deepEqual(a.pow(b.div(10)).toArray(), [[1, 4, 27], [4, 25, 216]]);
  assert.deepEqual(torch.minimum(a, torch.full([1], 3.5, { dtype: "float64" })).toArray(), [[1, 2, 3], [3.5, 3.5, 3.5]]);
  assert.deepEqual(torch.maximum(a, torch.full([1], 3.5, { dtype: "float64" })).toArray(), [[3.5, 3.5, 3.5], [4, 5, 6]]);
  assertClose(torch.atan2(torch.tensor([1, -1], { dtype: "float64" }), torch.tensor([-1, -1], { dtype: "float64" })), [Math.atan2(1, -1), Math.atan2(-1, -1)], 1e-12);
  const i = torch.tensor([1, 2, 3]);
  assert.equal(i.mul(2).dtype, "int64");
  assert.equal(i.mul(0.5).dtype, "float32");
  assert.equal(i.add(torch.tensor([0.5])).dtype, "float32");
  assert.throws(() => a.add(torch.ones([4])), torch.TorchError);
}));

test("clamp with numbers and tensors; comparisons and logic", () => tidy(() => {
  const x = torch.tensor([-2, -0.5, 0.5, 2], { dtype: "float64" });
  assert.deepEqual(x.clamp(-1, 1).toArray(), [-1, -0.5, 0.5, 1]);
  assert.deepEqual(x.clamp(0).toArray(), [0, 0, 0.5, 2]);
  assert.deepEqual(x.clamp(null, 0).toArray(), [-2, -0.5, 0, 0]);
  const lo = torch.tensor([-1, 0, 0, 0], { dtype: "float64" });
  assert.deepEqual(x.clamp(lo, torch.onesLike(x)).toArray(), [-1, 0, 0.5, 1]);
  assert.throws(() => x.clamp(lo, 1), /must both be tensors or both numbers/);
  assert.deepEqual(x.gt(0).toArray(), [false, false, true, true]);
  assert.deepEqual(x.le(x.flip(0)).toArray(), [true, true, false, false]);
  assert.deepEqual(x.eq(0.5).toArray(), [false, false, true, false]);
  assert.deepEqual(x.ne(0.5).toArray(), [true, true, false, true]);
  assert.deepEqual(x.lt(0).logicalAnd(x.gt(-1)).toArray(), [false, true, false, false]);
  assert.deepEqual(x.lt(0).logicalOr(x.gt(1)).toArray(), [true, true, false, true]);
  assert.deepEqual(torch.logicalXor(x.lt(0), x.lt(1)).toArray(), [false, false, true, false]);
  assert.deepEqual(x.gt(0).logicalNot().toArray(), [true, true, false, false]);
  assert.ok(x.allclose(x.add(1e-9)));
  assert.ok(!x.allclose(x.add(1e-3)));
  assert.ok(torch.equal(x, x.clone()));
  assert.deepEqual(torch.where(x.gt(0), x, torch.zerosLike(x)).toArray(), [0, 0, 0.5, 2]);
  assert.deepEqual(values(torch.isfinite(torch.tensor([1, Infinity, NaN]))), [1, 0, 0]);
}));

test("reductions match float64 references, with dims and keepdim", () => tidy(() => {
  const data = uniform(24, 3);
  const x = torch.tensor(new Float64Array(data), { shape: [2, 3, 4] });
  const at = (i: number, j: number, k: number) => data[i * 12 + j * 4 + k]!;
  const total = data.reduce((a, b) => a + b);
  assertClose(x.sum(), total, 1e-12);
  assertClose(x.mean(), total / 24, 1e-12);
  const sum1 = [0, 1].flatMap((i) => [0, 1, 2, 3].map((k) => at(i, 0, k) + at(i, 1, k) + at(i, 2, k)));
  assertClose(x.sum(1), sum1, 1e-12);
  assert.deepEqual(x.sum(1, true).shape, [2, 1, 4]);
  assert.deepEqual(x.mean([0, 2]).shape, [3]);
  const m = total / 24;
  const ss = data.reduce((a, b) => a + (b - m) ** 2, 0);
  assertClose(x.var(), ss / 23, 1e-12);
  assertClose(x.std(undefined, { correction: 0 }), Math.sqrt(ss / 24), 1e-12);
  assertClose(x.min(), Math.min(...data), 0);
  assertClose(x.max(), Math.max(...data), 0);
  assertClose(x.amax([1, 2]), [Math.max(...data.slice(0, 12)), Math.max(...data.slice(12))], 0);
  assertClose(x.amin(0), data.slice(0, 12).map((v, i) => Math.min(v, data[i + 12]!)), 0);
  assert.equal(x.argmax().item(), data.indexOf(Math.max(...data)));
  assert.equal(x.argmin().item(), data.indexOf(Math.min(...data)));
  const { values: mv, indices: mi } = torch.maxDim(x.reshape(6, 4), 1);
  for (let r = 0; r < 6; r++) {
    const row = data.slice(r * 4, r * 4 + 4);
    assertClose(mv.select(0, r).item(), Math.max(...row), 0);
    assert.equal(mi.select(0, r).item(), row.indexOf(Math.max(...row)));
  }
  assertClose(torch.minDim(x.reshape(6, 4), 0).values, [0, 1, 2, 3].map((k) => Math.min(...[0, 1, 2, 3, 4, 5].map((r) => data[r * 4 + k]!))), 0);
  assertClose(x.norm(1), data.reduce((a, b) => a + Math.abs(b), 0), 1e-12);
  assertClose(x.norm(2), Math.sqrt(data.reduce((a, b) => a + b * b, 0)), 1e-12);
  assertClose(x.norm(Infinity), Math.max(...data.map(Math.abs)), 0);
  assertClose(x.norm(2, [1, 2]), [0, 1].map((i) => Math.sqrt(data.slice(i * 12, i * 12 + 12).reduce((a, b) => a + b * b, 0))), 1e-12);
  assertClose(x.logsumexp([0, 1, 2]), Math.log(data.reduce((a, b) => a + Math.exp(b), 0)), 1e-12);
  assertClose(x.flatten().cumsum(0), data.map((_, i) => data.slice(0, i + 1).reduce((a, b) => a + b)), 1e-12);
  assertClose(torch.prod(torch.tensor([1, 2, 3, 4], { dtype: "float64" })), 24, 0);
  const sorted = [...data].sort((a, b) => b - a);
  const top = torch.topk(x.flatten(), 3);
  assertClose(top.values, sorted.slice(0, 3), 0);
  assert.deepEqual(values(top.indices), sorted.slice(0, 3).map((v) => data.indexOf(v)));
  assertClose(torch.sort(x.flatten()).values, [...data].sort((a, b) => a - b), 0);
  assert.equal(torch.any(x.gt(0.99)).item(), Number(data.some((v) => v > 0.99)));
  assert.equal(torch.all(x.gt(-1)).item(), 1);
}));

test("finite-difference gradients of elementwise ops and reductions", () => {
  const pos = f64([2, 3], 11, 0.5, 2);
  const any = f64([2, 3], 12);
  const other = f64([3], 13, 0.5, 2);
  const unary: [string, (t: Tensor) => Tensor][] = [
    ["neg", torch.neg], ["abs", torch.abs], ["exp", torch.exp], ["log", torch.log], ["sqrt", torch.sqrt],
    ["rsqrt", torch.rsqrt], ["sin", torch.sin], ["cos", torch.cos], ["tanh", torch.tanh], ["sigmoid", torch.sigmoid],
    ["relu", torch.relu], ["square", torch.square], ["clamp", (t) => t.clamp(0.7, 1.6)],
    ["sum", (t) => t.sum(1)], ["mean", (t) => t.mean(0, true)], ["std", (t) => t.std(1)], ["var", (t) => t.var(0)],
    ["amax", (t) => t.amax(1)], ["amin", (t) => t.amin(0)], ["max", (t) => t.max()], ["min", (t) => t.min()],
    ["norm1", (t) => t.norm(1, 1)], ["norm2", (t) => t.norm(2)], ["normInf", (t) => t.norm(Infinity, 0)],
    ["logsumexp", (t) => t.logsumexp(1)], ["cumsum", (t) => t.cumsum(1)], ["prod", (t) => torch.prod(t, 1)],
    ["softmax", (t) => t.softmax(1)], ["logSoftmax", (t) => t.logSoftmax(0)], ["powScalar", (t) => t.pow(3)],
    ["topk", (t) => torch.topk(t, 2, 1).values], ["sort", (t) => torch.sort(t, 1).values],
  ];
  for (const [name, f] of unary) gradcheck(f, [name === "log" || name === "sqrt" || name === "rsqrt" || name.startsWith("pow") ? pos : any], name);
  const binary: [string, (a: Tensor, b: Tensor) => Tensor][] = [
    ["add", (a, b) => a.add(b, 2)], ["sub", (a, b) => a.sub(b)], ["mul", (a, b) => a.mul(b)], ["div", (a, b) => a.div(b)],
    ["pow", (a, b) => a.pow(b)], ["minimum", (a, b) => torch.minimum(a, b)], ["maximum", (a, b) => torch.maximum(a, b)],
    ["atan2", (a, b) => torch.atan2(a, b)], ["where", (a, b) => torch.where(a.gt(1), a, b.expand(2, 3))],
  ];
  for (const [name, f] of binary) gradcheck(f, [pos, other], name);
});

test("rounding, NaN tests and complex construction", () => tidy(() => {
  const x = torch.tensor([-1.5, -0.4, 0.5, 2.5, 2.6], { dtype: "float64" });
  assert.deepEqual(values(torch.ceil(x)), [-1, -0, 1, 3, 3]);
  assert.deepEqual(values(torch.round(x)), [-2, -0, 0, 2, 3], "round half to even, as PyTorch");
  assert.deepEqual(values(torch.isnan(torch.tensor([0, NaN, Infinity]))), [0, 1, 0]);
  const re = torch.tensor([1, -2], { dtype: "float32" });
  const im = torch.tensor([3, 0.5], { dtype: "float32" });
  const z = torch.complex(re, im);
  assert.equal(z.dtype, "complex64");
  assert.deepEqual(values(torch.viewAsReal(z)), [1, 3, -2, 0.5]);
  assert.deepEqual(values(torch.imag(torch.conj(z))), [-3, -0.5]);
  assertClose(z.abs(), [Math.hypot(1, 3), Math.hypot(2, 0.5)], 1e-6);
  assertClose(torch.angle(z), [Math.atan2(3, 1), Math.atan2(0.5, -2)], 1e-6);
  assert.ok(torch.equal(torch.viewAsComplex(torch.viewAsReal(z)), z));
}));
