import assert from "node:assert/strict";
import { test } from "node:test";
import { torch } from "../src/index.js";
import type { Tensor } from "../src/torch/index.js";
import { assertClose, f64, gradcheck, values } from "./helpers.js";

const { tidy } = torch;
const F = torch.nn.functional;

/** Direct 2-D convolution (cross-correlation, as in PyTorch) with zero padding, in float64. */
function naiveConv(x: Tensor, wt: Tensor, bias: number[], stride: number, pad: number, dil: number, groups: number): number[] {
  const [N, C, H, W] = x.shape as number[];
  const [O, Cg, KH, KW] = wt.shape as number[];
  const xv = values(x);
  const wv = values(wt);
  const Ho = Math.floor((H! + 2 * pad - dil * (KH! - 1) - 1) / stride) + 1;
  const Wo = Math.floor((W! + 2 * pad - dil * (KW! - 1) - 1) / stride) + 1;
  const out: number[] = [];
  const og = O! / groups;
  for (let n = 0; n < N!; n++) for (let o = 0; o < O!; o++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
    let s = bias[o] ?? 0;
    const g = Math.floor(o / og);
    for (let c = 0; c < Cg!; c++) for (let ki = 0; ki < KH!; ki++) for (let kj = 0; kj < KW!; kj++) {
      const yi = i * stride - pad + ki * dil;
      const xj = j * stride - pad + kj * dil;
      if (yi < 0 || yi >= H! || xj < 0 || xj >= W!) continue;
      s += xv[((n * C! + g * Cg! + c) * H! + yi) * W! + xj]! * wv[((o * Cg! + c) * KH! + ki) * KW! + kj]!;
    }
    out.push(s);
  }
  return out;
}

test("linear and conv2d (stride, padding, dilation, groups, 'same') equal direct float64 sums", () => tidy(() => {
  const x = f64([2, 5], 1);
  const wt = f64([3, 5], 2);
  const b = f64([3], 3);
  const xv = values(x), wv = values(wt), bv = values(b);
  const ref = [0, 1].flatMap((n) => [0, 1, 2].map((o) => bv[o]! + [0, 1, 2, 3, 4].reduce((s, k) => s + xv[n * 5 + k]! * wv[o * 5 + k]!, 0)));
  assertClose(F.linear(x, wt, b), ref, 1e-12);
  const img = f64([2, 4, 7, 6], 4);
  for (const [stride, pad, dil, groups] of [[1, 0, 1, 1], [2, 1, 1, 1], [1, 2, 2, 1], [1, 1, 1, 2], [2, 0, 1, 4]] as const) {
    const k = f64([4, 4 / groups, 3, 3], 5 + stride + pad + dil + groups);
    const bias = f64([4], 6);
    const got = F.conv2d(img, k, bias, { stride, padding: pad, dilation: dil, groups });
    assertClose(got, naiveConv(img, k, values(bias), stride, pad, dil, groups), 1e-11, `conv s${stride} p${pad} d${dil} g${groups}`);
  }
  const k = f64([3, 4, 3, 3], 9);
  assertClose(F.conv2d(img, k, undefined, { padding: "same" }), naiveConv(img, k, [], 1, 1, 1, 1), 1e-11);
  assert.deepEqual(F.conv2d(img, k, undefined, { padding: "valid" }).shape, [2, 3, 5, 4]);
  assert.throws(() => F.conv2d(img, f64([3, 5, 3, 3], 1)), torch.TorchError);
}));

test("pooling equals windowed max / mean", () => tidy(() => {
  const x = f64([1, 2, 4, 6], 10);
  const xv = values(x);
  const at = (c: number, i: number, j: number) => xv[(c * 4 + i) * 6 + j]!;
  const mp = values(F.maxPool2d(x, 2));
  const ap = values(F.avgPool2d(x, 2));
  let k = 0;
  for (let c = 0; c < 2; c++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++, k++) {
    const win = [at(c, 2 * i, 2 * j), at(c, 2 * i, 2 * j + 1), at(c, 2 * i + 1, 2 * j), at(c, 2 * i + 1, 2 * j + 1)];
    assertClose(mp[k]!, Math.max(...win), 0);
    assertClose(ap[k]!, win.reduce((a, b) => a + b) / 4, 1e-12);
  }
  assert.deepEqual(F.maxPool2d(x, 3, { stride: 1, padding: 1 }).shape, [1, 2, 4, 6]);
  const g = F.adaptiveAvgPool2d(x, 1);
  assertClose(g, [0, 1].map((c) => xv.slice(c * 24, c * 24 + 24).reduce((a, b) => a + b) / 24), 1e-12);
  assert.deepEqual(F.adaptiveAvgPool2d(x, [2, 3]).shape, [1, 2, 2, 3]);
}));

test("batchNorm in training uses batch statistics and updates running stats; eval uses running stats", () => tidy(() => {
  const x = f64([8, 3, 2, 2], 11, -2, 3);
  const rm = torch.zeros([3], { dtype: "float64" });
  const rv = torch.ones([3], { dtype: "float64" });
  const weight = f64([3], 12);
  const bias = f64([3], 13);
  const y = F.batchNorm(x, rm, rv, { weight, bias, training: true, momentum: 0.1, eps: 1e-5 });
  const mean = x.mean([0, 2, 3]);
  const varB = x.var([0, 2, 3], { correction: 0 });
  const ref = x.sub(mean.reshape(1, 3, 1, 1)).div(varB.add(1e-5).sqrt().reshape(1, 3, 1, 1)).mul(weight.reshape(1, 3, 1, 1)).add(bias.reshape(1, 3, 1, 1));
  assertClose(y, values(ref), 1e-10);
  assertClose(rm, values(mean.mul(0.1)), 1e-12);
  assertClose(rv, values(x.var([0, 2, 3]).mul(0.1).add(0.9)), 1e-12);
  const e = F.batchNorm(x, rm, rv, { weight, bias, training: false });
  const refE = x.sub(rm.reshape(1, 3, 1, 1)).div(rv.add(1e-5).sqrt().reshape(1, 3, 1, 1)).mul(weight.reshape(1, 3, 1, 1)).add(bias.reshape(1, 3, 1, 1));
  assertClose(e, values(refE), 1e-10);
}));

test("layerNorm, activations, softmax family", () => tidy(() => {
  const x = f64([4, 6], 14, -3, 3);
  const mu = x.mean(1, true);
  const sd = x.var(1, { correction: 0, keepdim: true }).add(1e-5).sqrt();
  assertClose(F.layerNorm(x, [6]), values(x.sub(mu).div(sd)), 1e-10);
  const xv = values(x);
  assertClose(F.leakyRelu(x, 0.01), xv.map((v) => (v > 0 ? v : 0.01 * v)), 1e-12);
  // erf by midpoint integration: exact enough for a 1e-6 check and independent of libtorch.
  const erf = (z: number) => {
    let s = 0; const n = 2000;
    for (let i = 0; i < n; i++) { const t = (z * (i + 0.5)) / n; s += Math.exp(-t * t); }
    return (2 / Math.sqrt(Math.PI)) * s * (z / n);
  };
  assertClose(F.gelu(x), xv.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))), 1e-6);
  assertClose(F.gelu(x, "tanh"), xv.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))), 1e-12);
  const sm = values(F.softmax(x, 1));
  for (let r = 0; r < 4; r++) {
    const row = xv.slice(r * 6, r * 6 + 6);
    const z = row.reduce((a, v) => a + Math.exp(v), 0);
    assertClose(sm.slice(r * 6, r * 6 + 6), row.map((v) => Math.exp(v) / z), 1e-12);
    assertClose(values(F.logSoftmax(x, 1)).slice(r * 6, r * 6 + 6), row.map((v) => v - Math.log(z)), 1e-12);
  }
}));

test("crossEntropy, nllLoss, mseLoss, oneHot against their formulas", () => tidy(() => {
  const logits = f64([5, 4], 15, -2, 2);
  const y = torch.tensor([0, 3, 1, 1, 2]);
  const lv = values(logits);
  const yv = values(y);
  const per = yv.map((c, n) => {
    const row = lv.slice(n * 4, n * 4 + 4);
    return Math.log(row.reduce((a, v) => a + Math.exp(v), 0)) - row[c]!;
  });
  assertClose(F.crossEntropy(logits, y, { reduction: "none" }), per, 1e-12);
  assertClose(F.crossEntropy(logits, y), per.reduce((a, b) => a + b) / 5, 1e-12);
  assertClose(F.crossEntropy(logits, y, { reduction: "sum" }), per.reduce((a, b) => a + b), 1e-12);
  assertClose(F.nllLoss(F.logSoftmax(logits, 1), y), per.reduce((a, b) => a + b) / 5, 1e-12);
  const ignore = torch.tensor([0, -100, 1, 1, 2]);
  assertClose(F.crossEntropy(logits, ignore), (per[0]! + per[2]! + per[3]! + per[4]!) / 4, 1e-12);
  const smooth = yv.map((c, n) => {
    const row = lv.slice(n * 4, n * 4 + 4);
    const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
    return 0.9 * (lse - row[c]!) + 0.1 * row.reduce((a, v) => a + (lse - v) / 4, 0);
  });
  assertClose(F.crossEntropy(logits, y, { labelSmoothing: 0.1, reduction: "none" }), smooth, 1e-12);
  const a = f64([3, 3], 16);
  const b = f64([3, 3], 17);
  assertClose(F.mseLoss(a, b), values(a).reduce((s, v, i) => s + (v - values(b)[i]!) ** 2, 0) / 9, 1e-12);
  assert.deepEqual(F.oneHot(torch.tensor([2, 0]), 3).toArray(), [[0, 0, 1], [1, 0, 0]]);
  assert.throws(() => F.crossEntropy(logits, torch.tensor([0, 9, 1, 1, 2])), torch.TorchError);
  assert.throws(() => F.crossEntropy(logits, y, { reduction: "avg" as never }), /unknown reduction 'avg'/);
}));

test("dropout: identity in eval, inverted scaling and the right rate in training, reproducible with a generator", () => tidy(() => {
  const x = torch.ones([20000], { dtype: "float64" });
  assert.ok(torch.equal(F.dropout(x, 0.3, false), x));
  const g = new torch.Generator(5);
  const y = values(F.dropout(x, 0.3, true, g));
  assert.ok(y.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-12));
  assert.ok(Math.abs(y.filter((v) => v === 0).length / y.length - 0.3) < 0.02);
  const g2 = new torch.Generator(5);
  assert.deepEqual(values(F.dropout(x, 0.3, true, g2)), y);
  assert.throws(() => F.dropout(x, 1.5), /dropout probability/);
  g.dispose();
  g2.dispose();
}));

test("finite-difference gradients of nn functional ops", () => {
  const img = f64([2, 4, 5, 5], 20);
  const k = f64([3, 2, 3, 3], 21);
  gradcheck((x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1, groups: 2 }), [img, f64([4, 2, 3, 3], 23), f64([4], 24)], "conv2d");
  gradcheck((x, w) => F.conv2d(x, w, undefined, { padding: "same", dilation: 2 }), [img.narrow(1, 0, 2), k], "conv2d same");
  gradcheck((x, w, b) => F.linear(x, w, b), [f64([3, 4], 25), f64([2, 4], 26), f64([2], 27)], "linear");
  gradcheck((x) => F.maxPool2d(x, 2), [img], "maxPool2d");
  gradcheck((x) => F.avgPool2d(x, 3, { stride: 2, padding: 1 }), [img], "avgPool2d");
  gradcheck((x) => F.adaptiveAvgPool2d(x, [2, 3]), [img], "adaptiveAvgPool2d");
  gradcheck((x, w, b) => F.batchNorm(x, undefined, undefined, { weight: w, bias: b, training: true }), [img, f64([4], 28), f64([4], 29)], "batchNorm", 1e-5);
  gradcheck((x, w, b) => F.layerNorm(x, [5, 5], w, b), [img, f64([5, 5], 30), f64([5, 5], 31)], "layerNorm", 1e-5);
  gradcheck((x) => F.leakyRelu(x, 0.1), [img], "leakyRelu");
  gradcheck((x) => F.gelu(x), [img], "gelu");
  gradcheck((x) => F.gelu(x, "tanh"), [img], "gelu tanh");
  gradcheck((x) => F.dropout(x, 0.4, true, new torch.Generator(3)), [img], "dropout");
  const y = torch.tensor([1, 0, 2]);
  gradcheck((x) => F.crossEntropy(x, y), [f64([3, 4], 32)], "crossEntropy");
  gradcheck((x) => F.crossEntropy(x, y, { reduction: "none", labelSmoothing: 0.2 }), [f64([3, 4], 33)], "crossEntropy smoothed");
  gradcheck((x) => F.nllLoss(x, y, { reduction: "sum" }), [f64([3, 4], 34)], "nllLoss");
  gradcheck((a, b) => F.mseLoss(a, b), [f64([3, 4], 35), f64([3, 4], 36)], "mseLoss");
});
