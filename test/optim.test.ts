import assert from "node:assert/strict";
import { test } from "node:test";
import { optim, torch } from "../src/index.js";
import { assertClose } from "./helpers.js";

// PyTorch's SGD: g += wd·p; b = g (first step) else μ·b + (1-τ)·g; g = g + μ·b (Nesterov) or b; p -= lr·g.
function reference(p0: number, grads: (p: number) => number, steps: number, o: { lr: number; momentum: number; weightDecay: number; nesterov: boolean; dampening: number }) {
  let p = p0;
  let b: number | undefined;
  for (let s = 0; s < steps; s++) {
    let g = grads(p) + o.weightDecay * p;
    b = b === undefined ? g : o.momentum * b + (1 - o.dampening) * g;
    g = o.nesterov ? g + o.momentum * b : b;
    p -= o.lr * g;
  }
  return p;
}

test("SGD follows PyTorch's update rule (momentum, dampening, Nesterov, weight decay)", () => {
  for (const o of [
    { lr: 0.1, momentum: 0, weightDecay: 0, nesterov: false, dampening: 0 },
    { lr: 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: false, dampening: 0 },
    { lr: 0.05, momentum: 0.9, weightDecay: 1e-2, nesterov: true, dampening: 0 },
    { lr: 0.05, momentum: 0.5, weightDecay: 0, nesterov: false, dampening: 0.3 },
  ]) {
    const p = torch.tensor([1.5, -2], { dtype: "float64", requiresGrad: true });
    const sgd = new optim.SGD([p], o);
    for (let s = 0; s < 7; s++) {
      sgd.zeroGrad();
      torch.tidy(() => p.pow(4).sum().backward()); // d/dp p^4 = 4p^3
      sgd.step();
    }
    assertClose(p, [1.5, -2].map((p0) => reference(p0, (x) => 4 * x ** 3, 7, o)), 1e-12, JSON.stringify(o));
    sgd.dispose();
    p.dispose();
  }
});

test("Adam follows PyTorch's update (bias correction, eps outside the root, L2 weight decay)", () => {
  const o = { lr: 0.01, betas: [0.9, 0.99] as [number, number], eps: 1e-8, weightDecay: 0.1 };
  const p = torch.tensor([1.5, -2], { dtype: "float64", requiresGrad: true });
  const adam = new optim.Adam([p], o);
  const ref = [1.5, -2].map((p0) => {
    let x = p0, m = 0, v = 0;
    for (let t = 1; t <= 5; t++) {
      const g = 4 * x ** 3 + o.weightDecay * x;
      m = o.betas[0] * m + (1 - o.betas[0]) * g;
      v = o.betas[1] * v + (1 - o.betas[1]) * g * g;
      x -= (o.lr / (1 - o.betas[0] ** t)) * m / (Math.sqrt(v) / Math.sqrt(1 - o.betas[1] ** t) + o.eps);
    }
    return x;
  });
  for (let s = 0; s < 5; s++) {
    adam.zeroGrad();
    torch.tidy(() => p.pow(4).sum().backward());
    adam.step();
  }
  assertClose(p, ref, 1e-12);
  // State survives a save/restore: a restored optimizer continues identically.
  const saved = adam.stateDict();
  const q = p.detach().clone().requiresGrad_();
  const a2 = new optim.Adam([q], o);
  a2.loadStateDict(saved, adam.steps);
  const next = (opt: optim.Optimizer, t: torch.Tensor) => { opt.zeroGrad(); torch.tidy(() => t.pow(4).sum().backward()); opt.step(); };
  next(adam, p);
  next(a2, q);
  assertClose(q, Array.from(p.toTypedArray() as Float64Array), 0);
  torch.dispose([p, q, [...saved.values()]]);
  adam.dispose();
  a2.dispose();
});

test("schedules: constant, step, cosine, paper A's ×0.3 every 4 epochs reset at 20, plateau", () => {
  assert.equal(new optim.Schedule("constant", 0.1).lr(37), 0.1);
  const step = new optim.Schedule("step", 1, { stepSize: 3, gamma: 0.5 });
  assert.deepEqual([0, 2, 3, 6].map((e) => step.lr(e)), [1, 1, 0.5, 0.25]);
  const cos = new optim.Schedule("cosine", 1, { totalEpochs: 10 });
  assertClose([cos.lr(0), cos.lr(5), cos.lr(10)], [1, 0.5, 0], 1e-12);
  const a = new optim.Schedule("paper-a", 0.01);
  assertClose([0, 3, 4, 8, 19, 20, 24].map((e) => a.lr(e)), [0.01, 0.01, 0.003, 0.0009, 0.01 * 0.3 ** 4, 0.01, 0.003], 1e-15);
  const pl = new optim.Schedule("plateau", 1, { patience: 2 });
  for (const loss of [5, 4, 4, 4, 4]) pl.observe(loss);
  assert.equal(pl.lr(0), 0.1, "three epochs without improvement > patience 2");
  const restored = new optim.Schedule("plateau", 1, { patience: 2 });
  restored.loadState(JSON.parse(JSON.stringify(pl.state())));
  assert.deepEqual(restored.state(), pl.state());
  assert.throws(() => new optim.Schedule("linear" as never, 1), /schedule: expected one of/);
});
