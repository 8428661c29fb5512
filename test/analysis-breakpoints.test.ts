import assert from "node:assert/strict";
import { test } from "node:test";
import { analysis, torch } from "../src/index.js";
import { createModel, type HiddenStack } from "../src/models/index.js";
import { Module } from "../src/nn/index.js";
import type { Tensor } from "../src/torch/index.js";
import { assertClose, values } from "./helpers.js";

const { tidy } = torch;
const F = torch.nn.functional;
const { matchedRandom, pathAnalysis } = analysis;

/** Observed relu / leakyRelu inputs (shapes) during one forward pass. */
function observedShapes(m: Module, x: Tensor): number[][] {
  const seen: number[][] = [];
  tidy(() => torch.noGrad(() => F.observeActivations(() => m.forward(x), (z) => seen.push([...z.shape]))));
  return seen;
}

test("the activation observer sees every ReLU of any model, and only while it is installed", () => {
  const cases: [string, Record<string, unknown>, number, number[]][] = [
    // stem + 2 per basic block × 8 blocks; VGG: 16 conv ReLU modules + 2 in the classifier.
    ["resnet18", { width: 4 }, 17, [2, 4, 32, 32]],
    ["vgg19", { width: 4 }, 18, [2, 4, 32, 32]],
    ["onehidden", { width: 6, inputShape: [1, 4, 4] }, 1, [2, 6]],
    ["fc", { width: 5, depth: 3, inputShape: [1, 4, 4] }, 3, [2, 5]],
    ["fc", { width: 5, activation: "linear", inputShape: [1, 4, 4] }, 0, []],
  ];
  for (const [name, options, calls, first] of cases) {
    const m = createModel(name, { ...options, seed: 1 });
    m.eval();
    const shape = (options.inputShape as number[] | undefined) ?? [3, 32, 32];
    tidy(() => {
      const seen = observedShapes(m, torch.rand([2, ...shape]));
      assert.equal(seen.length, calls, name);
      if (calls) assert.deepEqual(seen[0], first, `${name}: first ReLU input`);
    });
    m.dispose();
  }
  let calls = 0;
  tidy(() => {
    const x = torch.tensor([-1.5, 2.5]);
    assert.deepEqual(F.relu(x).toArray(), [0, 2.5]);
    const inner: number[] = [];
    F.observeActivations(() => {
      F.relu(x);
      F.observeActivations(() => F.leakyRelu(x), (z) => inner.push(z.numel));
      F.relu(x);
    }, () => calls++);
    assert.deepEqual([calls, inner], [2, [2]], "the inner observer replaces the outer one until it returns");
    assert.throws(() => F.observeActivations(() => { throw new Error("boom"); }, () => calls++), /boom/);
    F.relu(x);
    F.leakyRelu(x);
  });
  assert.equal(calls, 2, "no observer after observeActivations returns or throws");
});

test("matchedRandom: Gaussian directions with each example's L2 norm; a zero δ gives zero", () => tidy(() => {
  const delta = torch.rand([5, 3, 4, 4]).sub(0.5);
  delta.narrow(0, 2, 1).zero_();
  const g1 = new torch.Generator(7);
  const r = matchedRandom(delta, g1);
  g1.dispose();
  assert.deepEqual(r.shape, delta.shape);
  assertClose(r.flatten(1).norm(2, 1), values(delta.flatten(1).norm(2, 1)), 1e-5);
  using g2 = new torch.Generator(7);
  assertClose(matchedRandom(delta, g2), values(r), 0, "same seed, same draw");
  assert.throws(() => matchedRandom(torch.zeros([4]), g2), RangeError);
}));

/**
 * Input (t, 0) on the path from (0, 0) along (1, 0). Layer 1: a = t − 0.205, b = 0.795 − t,
 * c = t + 1 (always on), d = −t − 1 (always off). Layer 2: e = 0.6 − relu(a) − relu(b), which is
 * t − 0.195 before 0.205, 0.01 in between and 0.805 − t after 0.795: on only in (0.195, 0.805).
 * So a and b flip once, e twice, c and d never: 3 of 5 ReLUs flip, 4 flips in all. No breakpoint
 * sits on a grid point t = k/100.
 */
class KnownBreakpoints extends Module {
  constructor() {
    super();
    this.param("w1", torch.tensor([[1, 0], [-1, 0], [1, 0], [-1, 1]], { dtype: "float64" }));
    this.param("b1", torch.tensor([-0.205, 0.795, 1, -1], { dtype: "float64" }));
    this.param("w2", torch.tensor([[-1, -1, 0, 0]], { dtype: "float64" }));
    this.param("b2", torch.tensor([0.6], { dtype: "float64" }));
    this.param("w3", torch.tensor([[1, 0, 0, 0, 2], [0, 1, 1, 1, -1]], { dtype: "float64" }));
  }
  forward(x: Tensor): Tensor {
    const h = F.relu(F.linear(x, this.get("w1"), this.get("b1")));
    const e = F.relu(F.linear(h, this.get("w2"), this.get("b2")));
    return F.linear(torch.cat([h, e], 1), this.get("w3"));
  }
}

test("a hand-built ReLU net with known breakpoints gives the exact flip fractions", () => tidy(() => {
  const m = new KnownBreakpoints();
  const x = torch.zeros([2, 2], { dtype: "float64" });
  // Example 1 walks the same line backwards from (1, 0): the same breakpoints.
  x.narrow(0, 1, 1).narrow(1, 0, 1).fill_(1);
  const u = torch.tensor([[1, 0], [-1, 0]], { dtype: "float64" });
  const y = torch.tensor([0, 1]);
  for (const batchSize of [256, 30, 7, 1]) {
    const p = pathAnalysis(m, x, u, y, y.flip(0), { points: 101, batchSize });
    assertClose(p.everFlipped, [3 / 5, 3 / 5], 1e-12, `ever flipped, batch ${batchSize}`);
    assertClose(p.totalFlips, [4 / 500, 4 / 500], 1e-12, `total flips, batch ${batchSize}`);
    assert.equal(p.everFlipped.dtype, "float64");
  }
  m.dispose();
}));

/** Roughness by its definition, one autograd call per point. */
function roughnessByLoop(m: Module, x: Tensor, u: Tensor, label: number, T: number): number {
  return tidy(() => {
    const grad = (t: number) => {
      const xi = x.add(u.mul(t)).detach().requiresGrad_(true);
      return torch.autograd.grad(m.forward(xi).select(1, label).sum(), [xi])[0]!.flatten();
    };
    const g0 = grad(0);
    let sum = 0;
    for (let k = 0; k < T; k++) {
      const g = grad(k / (T - 1));
      sum += 1 - g.mul(g0).sum().item() / (g.norm().item() * g0.norm().item());
    }
    return sum / T;
  });
}

test("ReLU fc: flips and roughness match a direct computation; batching does not change them", () => {
  const m = createModel("fc", { width: 16, depth: 2, inputShape: [1, 4, 4], classes: 3, seed: 5 });
  tidy(() => {
    const g = new torch.Generator(6);
    const x = torch.rand([3, 1, 4, 4], { generator: g });
    const u = torch.randn([3, 1, 4, 4], { generator: g }).mul(2);
    g.dispose();
    const y = torch.tensor([0, 1, 2]);
    const adv = torch.tensor([1, 2, 0]);
    const T = 9;
    const p = pathAnalysis(m, x, u, y, adv, { points: T });
    // Reference states from the model's own pre-activations (not through the observer).
    const states = Array.from({ length: T }, (_, k) => torch.noGrad(() =>
      torch.cat((m as HiddenStack).preActivations(x.add(u.mul(k / (T - 1)))).map((z) => z.gt(0)), 1)));
    for (let i = 0; i < 3; i++) {
      const rows = states.map((s) => values(s.select(0, i)));
      const units = rows[0]!.length;
      let total = 0;
      let ever = 0;
      for (let j = 0; j < units; j++) {
        let flips = 0;
        for (let k = 1; k < T; k++) if (rows[k]![j] !== rows[k - 1]![j]) flips++;
        total += flips;
        if (flips) ever++;
      }
      assert.equal(units, 32);
      assertClose(p.everFlipped.select(0, i), ever / units, 1e-12, `example ${i} ever`);
      assertClose(p.totalFlips.select(0, i), total / (units * (T - 1)), 1e-12, `example ${i} total`);
      const [xi, ui] = [x.narrow(0, i, 1), u.narrow(0, i, 1)];
      assertClose(p.roughnessTrue.select(0, i), roughnessByLoop(m, xi, ui, i, T), 1e-5, `example ${i} roughness (true)`);
      assertClose(p.roughnessAdv.select(0, i), roughnessByLoop(m, xi, ui, [1, 2, 0][i]!, T), 1e-5, `example ${i} roughness (adv)`);
    }
    assert.ok(values(p.totalFlips).some((v) => v > 0), "the segments cross breakpoints");
    for (const batchSize of [1, 4, 20]) {
      const q = pathAnalysis(m, x, u, y, adv, { points: T, batchSize });
      for (const k of ["everFlipped", "totalFlips", "roughnessTrue", "roughnessAdv"] as const) assertClose(q[k], values(p[k]), 1e-6, `${k}, batch ${batchSize}`);
    }
    // A tiny segment stays inside one linear region: no flip, gradients unchanged.
    const tiny = pathAnalysis(m, x, u.mul(1e-6), y, adv, { points: 5 });
    assertClose(tiny.everFlipped, [0, 0, 0], 0);
    assertClose(tiny.totalFlips, [0, 0, 0], 0);
    assertClose(tiny.roughnessTrue, [0, 0, 0], 1e-6);
  });
  assert.equal(m.training, true, "mode restored");
  for (const p of m.parameters()) assert.equal(p.grad, undefined, "no weight gradient");
  m.dispose();
});

test("linear models have no breakpoints and zero roughness; bad arguments are refused", () => {
  const m = createModel("bwconv", { channels: 3, activation: "linear", inputShape: [3, 8, 8], seed: 8 });
  const before = torch.memory().tensors;
  tidy(() => {
    const x = torch.rand([4, 3, 8, 8]);
    const u = torch.randn([4, 3, 8, 8]);
    const y = torch.tensor([0, 1, 2, 3]);
    const p = pathAnalysis(m, x, u, y, y.flip(0), { points: 10, batchSize: 16 });
    assertClose(p.everFlipped, [0, 0, 0, 0], 0);
    assertClose(p.totalFlips, [0, 0, 0, 0], 0);
    assertClose(p.roughnessTrue, [0, 0, 0, 0], 1e-6);
    assertClose(p.roughnessAdv, [0, 0, 0, 0], 1e-6);
    assert.throws(() => pathAnalysis(m, x, u.narrow(0, 0, 3), y, y), { name: "RangeError", message: /same shape/ });
    assert.throws(() => pathAnalysis(m, x, u, y.narrow(0, 0, 3), y), { name: "RangeError", message: /labels must have shape \[4\]/ });
    assert.throws(() => pathAnalysis(m, x, u, y, y, { points: 1 }), { name: "RangeError", message: /points/ });
    assert.throws(() => pathAnalysis(m, x, u, y, y, { batchSize: 0 }), { name: "RangeError", message: /batchSize/ });
  });
  assert.equal(torch.memory().tensors, before, "no tensor outlives the calls");
  m.dispose();
});
