import assert from "node:assert/strict";
import { test } from "node:test";
import { torch } from "../src/index.js";
import { assertClose, f64, values } from "./helpers.js";

const { tidy } = torch;

test("backward accumulates into .grad; a gradient argument weights non-scalar outputs", () => tidy(() => {
  const x = f64([3], 1).requiresGrad_();
  assert.ok(x.requiresGrad && x.isLeaf);
  x.mul(x).sum().backward();
  assertClose(x.grad!, values(x).map((v) => 2 * v), 1e-12);
  x.mul(3).sum().backward();
  assertClose(x.grad!, values(x).map((v) => 2 * v + 3), 1e-12);
  x.grad = undefined;
  assert.equal(x.grad, undefined);
  const w = torch.tensor([1, 10, 100], { dtype: "float64" });
  x.exp().backward(w);
  assertClose(x.grad!, values(x).map((v, i) => Math.exp(v) * [1, 10, 100][i]!), 1e-12);
  assert.throws(() => x.exp().backward(), /grad can be implicitly created only for scalar outputs/);
}));

test("autograd.grad returns input gradients and leaves parameters' .grad untouched", () => tidy(() => {
  const wt = f64([2, 4], 2).requiresGrad_();
  const x = f64([3, 4], 3).requiresGrad_();
  const loss = torch.nn.functional.linear(x, wt).square().sum();
  const [gx] = torch.autograd.grad(loss, [x]);
  const ref = torch.noGrad(() => torch.nn.functional.linear(x, wt).mul(2).matmul(wt));
  assertClose(gx!, values(ref), 1e-12);
  assert.equal(wt.grad, undefined);
  assert.equal(x.grad, undefined);
  const y = f64([2], 4).requiresGrad_();
  assert.throws(() => torch.autograd.grad(x.sum(), [y]), torch.TorchError);
  assert.deepEqual(torch.autograd.grad(x.sum(), [x, y], { allowUnused: true }).map((g) => g === undefined), [false, true]);
}));

test("retainGraph allows a second pass; createGraph gives second derivatives", () => tidy(() => {
  const x = torch.tensor([0.5, 2], { dtype: "float64", requiresGrad: true });
  const y = x.pow(3).sum();
  torch.autograd.grad(y, x, { retainGraph: true });
  assert.ok(torch.autograd.grad(y, x)[0]);
  assert.throws(() => torch.autograd.grad(y, x), torch.TorchError);
  const z = x.pow(3).sum();
  const [g] = torch.autograd.grad(z, x, { createGraph: true });
  const [gg] = torch.autograd.grad(g!.sum(), x);
  assertClose(gg!, [3, 12], 1e-12);
}));

test("noGrad and enableGrad switch recording and restore it, also on throw", () => tidy(() => {
  const x = f64([2], 5).requiresGrad_();
  assert.equal(torch.noGrad(() => x.mul(2)).requiresGrad, false);
  assert.equal(torch.noGrad(() => torch.enableGrad(() => x.mul(2))).requiresGrad, true);
  assert.throws(() => torch.noGrad(() => { throw new Error("boom"); }), /boom/);
  assert.equal(torch.isGradEnabled(), true);
  assert.equal(x.mul(2).detach().requiresGrad, false);
}));

test("in-place optimizer ops: add_, sub_, mul_, div_, copy_, zero_, fill_, clamp_, addcmul_, addcdiv_", () => tidy(() => {
  const t = torch.tensor([1, 2, 3], { dtype: "float64" });
  const same = t.add_(torch.onesLike(t), 2).sub_(1).mul_(2).div_(torch.full([3], 4, { dtype: "float64" }));
  assert.equal(same, t);
  assert.deepEqual(t.toArray(), [1, 1.5, 2]);
  t.addcmul_(t, torch.full([3], 2, { dtype: "float64" }), 0.5);
  assert.deepEqual(t.toArray(), [2, 3, 4]);
  t.addcdiv_(torch.ones([3], { dtype: "float64" }), t, 4);
  assert.deepEqual(t.toArray(), [4, 3 + 4 / 3, 5]);
  t.clamp_(3.5, 4.5);
  assert.deepEqual(t.toArray(), [4, 4.333333333333333, 4.5]);
  t.copy_(torch.tensor([7, 8, 9], { dtype: "float64" }));
  assert.deepEqual(t.toArray(), [7, 8, 9]);
  t.zero_();
  assert.deepEqual(t.toArray(), [0, 0, 0]);
  t.fill_(2);
  assert.deepEqual(t.toArray(), [2, 2, 2]);
  const leaf = torch.ones([2], { requiresGrad: true });
  assert.throws(() => leaf.add_(1), torch.TorchError, "in-place on a leaf that requires grad");
  torch.noGrad(() => leaf.add_(1));
  assert.deepEqual(leaf.toArray(), [2, 2]);
}));
