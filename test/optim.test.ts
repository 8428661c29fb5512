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

// The op-by-op updates the fused native steps replace (PyTorch's torch.optim for-loop order).
function sgdByOps(p: torch.Tensor, grad: torch.Tensor, buf: torch.Tensor | undefined, o: Required<Omit<optim.SgdOptions, "lr">> & { lr: number }): torch.Tensor | undefined {
  let g = o.weightDecay !== 0 ? grad.add(p, o.weightDecay) : grad;
  if (o.momentum !== 0) {
    if (buf === undefined) buf = torch.keep(g.clone());
    else buf.mul_(o.momentum).add_(g, 1 - o.dampening);
    g = o.nesterov ? g.add(buf, o.momentum) : buf;
  }
  p.sub_(g, o.lr);
  return buf;
}

function adamByOps(p: torch.Tensor, grad: torch.Tensor, m: torch.Tensor, v: torch.Tensor, t: number, o: { lr: number; b1: number; b2: number; eps: number; wd: number }): void {
  const g = o.wd !== 0 ? grad.add(p, o.wd) : grad;
  m.mul_(o.b1).add_(g, 1 - o.b1);
  v.mul_(o.b2).addcmul_(g, g, 1 - o.b2);
  p.addcdiv_(m, v.sqrt().div(Math.sqrt(1 - o.b2 ** t)).add(o.eps), -o.lr / (1 - o.b1 ** t));
}

test("the fused SGD and Adam steps equal the op-by-op updates to the bit (float32, several parameters, 6 steps)", () => {
  for (const seed of [1, 2, 3]) {
    const shapes = [[17, 5], [5], [3, 4, 2, 2]];
    const draw = (genSeed: number) => {
      const gen = new torch.Generator(genSeed);
      const ts = shapes.map((s) => torch.randn(s, { generator: gen }));
      gen.dispose();
      return ts;
    };
    const params = () => draw(seed + 100).map((p) => p.requiresGrad_());
    const gradsAt = (step: number) => draw(seed * 1000 + step);
    for (const o of [
      { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: false },
      { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: true },
      { lr: 0.05, momentum: 0.5, dampening: 0.3, weightDecay: 0, nesterov: false },
      { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 1e-2, nesterov: false },
    ]) {
      const fused = params();
      const ref = params();
      const sgd = new optim.SGD(fused, o);
      let bufs: (torch.Tensor | undefined)[] = ref.map(() => undefined);
      for (let step = 0; step < 6; step++) {
        const grads = gradsAt(step);
        // parameter 1 has no gradient on step 2: skipped, its buffer starts a step later
        fused.forEach((p, i) => { p.grad = step === 2 && i === 1 ? undefined : grads[i]!.clone(); });
        sgd.step();
        torch.noGrad(() => torch.tidy(() => { bufs = ref.map((p, i) => (step === 2 && i === 1 ? bufs[i] : sgdByOps(p, grads[i]!, bufs[i], o))); }));
        torch.dispose(grads);
      }
      fused.forEach((p, i) => assert.ok(torch.equal(p, ref[i]!), `SGD ${JSON.stringify(o)} seed ${seed}: parameter ${i} differs`));
      torch.dispose([fused, ref, bufs.filter((b) => b !== undefined)]);
      sgd.dispose();
    }
    const ao = { lr: 0.01, b1: 0.9, b2: 0.99, eps: 1e-8, wd: 0.1 };
    const fused = params();
    const ref = params();
    const adam = new optim.Adam(fused, { lr: ao.lr, betas: [ao.b1, ao.b2], eps: ao.eps, weightDecay: ao.wd });
    const moments = ref.map((p) => [torch.zerosLike(p), torch.zerosLike(p)] as const);
    for (let t = 1; t <= 6; t++) {
      const grads = gradsAt(t);
      fused.forEach((p, i) => { p.grad = grads[i]!.clone(); });
      adam.step();
      torch.noGrad(() => torch.tidy(() => ref.forEach((p, i) => adamByOps(p, grads[i]!, moments[i]![0], moments[i]![1], t, ao))));
      torch.dispose(grads);
    }
    fused.forEach((p, i) => assert.ok(torch.equal(p, ref[i]!), `Adam seed ${seed}: parameter ${i} differs`));
    torch.dispose([fused, ref, moments.flat()]);
    adam.dispose();
  }
});
