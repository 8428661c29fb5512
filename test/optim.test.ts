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
