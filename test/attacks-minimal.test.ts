// Minimal-norm attacks (DeepFool, FMN, CW, DDN, ε binary search): closed forms on linear models
// and the contract's invariants on small random networks. Every tensor lives in a tidy scope.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AttackModel, CarliniWagnerL2, DDN, EpsilonBinarySearch, FGM, FMN, L2DeepFool, LinfDeepFool, PGD,
  misclassification, nextClassTargets, norms, type Attack, type AttackResult, type Norm,
} from "../src/attacks/index.js";
import { createModel } from "../src/models/index.js";
import { Linear, Module } from "../src/nn/index.js";
import * as F from "../src/torch/functional.js";
import { torch } from "../src/index.js";
import type { Tensor } from "../src/torch/index.js";
import { f64, uniform, values } from "./helpers.js";

/** x ↦ W·flatten(x) + b with given float64 weights: one output = a binary margin f, C outputs = logits. */
class Affine extends Module {
  constructor(weight: Tensor, bias: Tensor) {
    super();
    this.param("weight", weight);
    this.param("bias", bias);
  }
  forward(x: Tensor): Tensor {
    return F.linear(x.flatten(1), this.get("weight"), this.get("bias"));
  }
}

/** A small ReLU network on 2×3×3 inputs (float32), for the invariants. */
class Mlp extends Module {
  readonly a: Linear;
  readonly b: Linear;
  constructor(seed: number) {
    super();
    const generator = new torch.Generator(seed);
    this.a = this.child("a", new Linear(18, 32, { generator }));
    this.b = this.child("b", new Linear(32, 4, { generator }));
    generator.dispose();
  }
  forward(x: Tensor): Tensor {
    return this.b.forward(this.a.forward(x.flatten(1)).relu());
  }
}

/** Records the number of live tensors at every forward pass of the wrapped module. */
class MemoryProbe extends Module {
  readonly counts: number[] = [];
  constructor(readonly inner: Module) {
    super();
    this.child("inner", inner);
  }
  forward(x: Tensor): Tensor {
    this.counts.push(torch.memory().tensors);
    return this.inner.forward(x);
  }
}

const D = 16;
const N = 6;
const WIDE: readonly [number, number] = [-50, 50];
/** Margins |f| that put the L2 and L∞ optima far above Foolbox's absolute 1e-4 (d₂ ≈ 7–13, d∞ ≈ 1.7–3.3). */
const LARGE: readonly [number, number] = [20, 40];
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const l2 = (a: number[]) => Math.sqrt(dot(a, a));
const l1 = (a: number[]) => a.reduce((s, v) => s + Math.abs(v), 0);
const rows = (t: Tensor): number[][] => {
  const v = values(t);
  const m = v.length / t.shape[0]!;
  return Array.from({ length: t.shape[0]! }, (_, i) => v.slice(i * m, (i + 1) * m));
};

/**
 * A binary linear classifier f(x) = w·x + b with |w_i| in [0.5, 1] (so that L∞ steps saturate
 * every coordinate in a few iterations), inputs moved along w to margins |f(x)| drawn from
 * `margins` (signs alternate; labels = the model's predictions, so every clean input is correct),
 * and the closed-form minimal distances |f(x)|/‖w‖₂ (L2) and |f(x)|/‖w‖₁ (L∞).
 */
function binaryLinear(own: Own, seed: number, margins: readonly [number, number], bounds: readonly [number, number] = WIDE) {
  const w = uniform(D, seed, 0.5, 1).map((v, i) => (i % 3 === 0 ? -v : v));
  const b = 0.3;
  const f = uniform(N, seed + 1, ...margins).map((v, i) => (i % 2 === 0 ? v : -v));
  const u = rows(f64([N, D], seed + 2, -0.5, 0.5));
  const xs = u.map((ui, i) => ui.map((v, j) => v + ((f[i]! - dot(w, ui) - b) * w[j]!) / dot(w, w)));
  const x = torch.tensor(new Float64Array(xs.flat()), { shape: [N, D] });
  const weight = torch.tensor(new Float64Array(w), { shape: [1, D] });
  const model = new AttackModel(own(new Affine(weight, torch.tensor(new Float64Array([b])))), { bounds });
  const labels = torch.tensor(f.map((v) => (v > 0 ? 1 : 0)), { dtype: "int64" });
  return { model, x, labels, w, f, dL2: f.map((v) => Math.abs(v) / l2(w)), dLinf: f.map((v) => Math.abs(v) / l1(w)) };
}

/** Per-example size of raw − x (the attack's own output, before any clipping). */
const sizes = (r: AttackResult, x: Tensor, norm: Norm): number[] => torch.tidy(() => values(norms(r.raw[0]!.sub(x), norm)));

function assertRelative(actual: number[], expected: number[], rtol: number, what: string): void {
  actual.forEach((a, i) => {
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= rtol * Math.abs(e), `${what}, example ${i}: got ${a}, expected ${e} (relative tolerance ${rtol})`);
  });
}

function randomInputs(shape: number[], seed: number): Tensor {
  const generator = new torch.Generator(seed);
  try {
    return torch.rand(shape, { generator });
  } finally {
    generator.dispose();
  }
}

/** Hands a module to the test's clean-up (modules keep their parameters outside every scope). */
type Own = <M extends Module>(m: M) => M;

/** Runs fn in a tidy scope, disposes the modules it owned, and checks that no tensor is left behind. */
function tidyTest(fn: (own: Own) => void): () => void {
  return () => {
    const before = torch.memory().tensors;
    const modules: Module[] = [];
    try {
      torch.tidy(() => fn((m) => { modules.push(m); return m; }));
    } finally {
      for (const m of modules) m.dispose();
    }
    assert.equal(torch.memory().tensors, before, "tensors leaked");
  };
}

describe("minimal-norm attacks on a binary linear classifier (closed forms)", () => {
  test("DeepFool L2: Foolbox's step (1 + overshoot)(d + 1e-4)·w/‖w‖, and d to 1e-4 without overshoot", tidyTest((own) => {
    const { model, x, labels, w, f, dL2 } = binaryLinear(own, 1, LARGE);
    const r = new L2DeepFool().run(model, x, labels, { epsilons: null });
    assert.deepEqual(values(r.success), new Array(N).fill(1));
    // Foolbox's formula to the last guard: distance |f|/(‖w‖ + 1e-8) + 1e-4, step along w/(‖w‖ + 1e-8).
    const norm = l2(w) + 1e-8;
    rows(r.raw[0]!.sub(x)).forEach((delta, i) => {
      const s = (-Math.sign(f[i]!) * 1.02 * (Math.abs(f[i]!) / norm + 1e-4)) / norm;
      assertRelative(delta, w.map((v) => s * v), 1e-12, `DeepFool step, example ${i}`);
    });
    const exact = new L2DeepFool({ overshoot: 0 }).run(model, x, labels, { epsilons: null });
    assert.deepEqual(values(exact.success), new Array(N).fill(1));
    assertRelative(sizes(exact, x, "l2"), dL2, 1e-4, "DeepFool L2 norm");
  }));

  test("DeepFool L∞: the step is (d∞ + 1e-4)·sign, d∞ = |f|/‖w‖₁", tidyTest((own) => {
    const { model, x, labels, w, f, dLinf } = binaryLinear(own, 2, LARGE);
    const r = new LinfDeepFool({ overshoot: 0 }).run(model, x, labels, { epsilons: null });
    assert.deepEqual(values(r.success), new Array(N).fill(1));
    assertRelative(sizes(r, x, "linf"), dLinf, 1e-4, "DeepFool L∞ norm");
    rows(r.raw[0]!.sub(x)).forEach((delta, i) => {
      assert.deepEqual(delta.map(Math.sign), w.map((v) => -Math.sign(f[i]!) * Math.sign(v)), `direction of example ${i}`);
    });
  }));

  for (const [norm, key] of [["l2", "dL2"], ["linf", "dLinf"]] as const) {
    test(`FMN ${norm} finds the minimal distance to 1e-4 (Foolbox defaults)`, tidyTest((own) => {
      const problem = binaryLinear(own, 3, LARGE);
      const r = new FMN(norm).run(problem.model, problem.x, problem.labels, { epsilons: null });
      assert.deepEqual(values(r.success), new Array(N).fill(1));
      const found = sizes(r, problem.x, norm);
      found.forEach((v, i) => assert.ok(v >= problem[key][i]! * (1 - 1e-9), `below the minimum? ${v} < ${problem[key][i]}`));
      assertRelative(found, problem[key], 1e-4, `FMN ${norm} norm`);
    }));
  }

  test("FMN L1 and L0 (Foolbox defaults): adversarial, near the sparse optimum", tidyTest((own) => {
    const { model, x, labels, f, w } = binaryLinear(own, 4, LARGE);
    // Both optima move only the coordinate of largest |w_i|, by |f|/max|w_i| (the bounds allow it).
    const wmax = Math.max(...w.map(Math.abs));
    const l1 = new FMN("l1").run(model, x, labels, { epsilons: null });
    assert.deepEqual(values(l1.success), new Array(N).fill(1));
    sizes(l1, x, "l1").forEach((v, i) => {
      const optimum = Math.abs(f[i]!) / wmax;
      assert.ok(v >= optimum * (1 - 1e-9) && v <= optimum * 1.2, `FMN L1, example ${i}: ${v} vs optimum ${optimum}`);
    });
    const l0 = new FMN("l0").run(model, x, labels, { epsilons: null });
    assert.deepEqual(values(l0.success), new Array(N).fill(1));
    sizes(l0, x, "l0").forEach((v, i) => assert.ok(v >= 1 && v <= 3, `FMN L0, example ${i}: ${v} coordinates changed`));
  }));

  test("CW-L2 and DDN land within 3 % above the L2 optimum", tidyTest((own) => {
    const { model, x, labels, dL2 } = binaryLinear(own, 5, [0.5, 1.5], [-4, 4]);
    const attacks: Attack[] = [new CarliniWagnerL2({ steps: 300 }), new DDN()];
    for (const attack of attacks) {
      const r = attack.run(model, x, labels, { epsilons: null });
      assert.deepEqual(values(r.success), new Array(N).fill(1), `${attack.name} success`);
      sizes(r, x, "l2").forEach((v, i) => {
        assert.ok(v >= dL2[i]! * (1 - 1e-6) && v <= dL2[i]! * 1.03, `${attack.name}, example ${i}: ${v} vs optimum ${dL2[i]}`);
      });
    }
  }));

  test("success at ε ⇔ the found norm ≤ ε, for every ε of one call", tidyTest((own) => {
    const { model, x, labels } = binaryLinear(own, 6, LARGE);
    const r = new FMN("l2").run(model, x, labels, { epsilons: [0.5, 1, 2, 3, 4, 6, null] });
    const found = sizes(r, x, "l2");
    const success = rows(r.success.to("int64"));
    [0.5, 1, 2, 3, 4, 6].forEach((eps, k) => {
      assert.deepEqual(success[k], found.map((v) => (v <= eps ? 1 : 0)), `ε = ${eps}`);
    });
    assert.deepEqual(success[6], new Array(N).fill(1));
    r.raw.forEach((raw) => assert.equal(raw, r.raw[0], "one raw output for every ε"));
  }));
});

describe("DeepFool on a multiclass linear classifier", () => {
  test("one step reaches the nearest linearised boundary (the exact one for a linear model)", tidyTest((own) => {
    const C = 5;
    const W = uniform(C * D, 11);
    const bias = uniform(C, 12);
    const model = new AttackModel(own(new Affine(torch.tensor(new Float64Array(W), { shape: [C, D] }), torch.tensor(new Float64Array(bias)))), { bounds: WIDE });
    const x = f64([N, D], 13);
    const wRow = (k: number) => W.slice(k * D, (k + 1) * D);
    const expected = rows(x).map((xi) => {
      const logits = Array.from({ length: C }, (_, k) => dot(wRow(k), xi) + bias[k]!);
      const top = logits.indexOf(Math.max(...logits));
      let best = { dist: Infinity, dw: [] as number[] };
      for (let k = 0; k < C; k++) {
        if (k === top) continue;
        const dw = wRow(k).map((v, i) => v - wRow(top)[i]!);
        const dist = (logits[top]! - logits[k]!) / l2(dw);
        if (dist < best.dist) best = { dist, dw };
      }
      return best.dw.map((v) => (1.02 * (best.dist + 1e-4) * v) / l2(best.dw));
    });
    const labels = model.predict(x);
    // Log-softmax differences are logit differences: Foolbox's "crossentropy" loss takes the same step.
    for (const [steps, loss] of [[1, "logits"], [50, "logits"], [1, "crossentropy"]] as const) {
      const r = new L2DeepFool({ steps, loss }).run(model, x, labels, { epsilons: null });
      assert.deepEqual(values(r.success), new Array(N).fill(1), `steps ${steps}`);
      rows(r.raw[0]!.sub(x)).forEach((delta, i) => assertRelative(delta, expected[i]!, 1e-7, `${loss}, steps ${steps}, example ${i}`));
    }
  }));

  test("refuses a targeted criterion", tidyTest((own) => {
    const model = new AttackModel(own(new Mlp(0)));
    const x = randomInputs([2, 2, 3, 3], 0);
    assert.throws(() => new L2DeepFool().run(model, x, nextClassTargets(torch.tensor([0, 1]), 4), { epsilons: null }), /untargeted/);
  }));
});

describe("ε binary search around a fixed-ε attack", () => {
  test("FGM L2 and FGSM on a linear classifier: the bracket holds the closed-form distance", tidyTest((own) => {
    // Moderate margins: at |f| ≈ 36 the cross-entropy gradient (≈ e^−36) is below Foolbox's 1e-12 normalisation guard.
    const { model, x, labels, dL2, dLinf } = binaryLinear(own, 7, [2, 6]);
    const cases = [[new FGM("l2"), dL2, 4], [new FGM("linf"), dLinf, 1]] as const;
    for (const [attack, exact, high] of cases) {
      const steps = 12;
      const search = new EpsilonBinarySearch(attack, { high, steps });
      const { adversarial, epsilon } = search.search(model, x, labels);
      const width = high / 2 ** steps;
      values(epsilon).forEach((e, i) => {
        assert.ok(e >= exact[i]! && e <= exact[i]! + width, `${attack.name}, example ${i}: ε ${e}, exact ${exact[i]}`);
      });
      const r = search.run(model, x, labels, { epsilons: [null, high] });
      assert.ok(torch.equal(r.raw[0]!, adversarial), "run() returns the search's adversarials");
      assert.deepEqual(values(r.success.select(0, 0)), new Array(N).fill(1));
    }
  }));

  test("examples not fooled at `high` get ε = Infinity and are not searched", tidyTest((own) => {
    const { model, x, labels, dL2 } = binaryLinear(own, 8, [2, 6]);
    const high = [...dL2].sort((a, b) => a - b)[2]! * 1.001;
    const { epsilon } = new EpsilonBinarySearch(new FGM("l2"), { high, steps: 4 }).search(model, x, labels);
    values(epsilon).forEach((e, i) => assert.equal(e === Infinity, dL2[i]! > high, `example ${i}`));
  }));

  test("with a random-start PGD the seed decides the result", tidyTest((own) => {
    const model = new AttackModel(own(new Mlp(1)));
    const x = randomInputs([8, 2, 3, 3], 1);
    const labels = model.predict(x);
    const search = new EpsilonBinarySearch(new PGD("linf", { steps: 5 }), { high: 1, steps: 5 });
    const a = search.search(model, x, labels, { seed: 3 });
    const b = search.search(model, x, labels, { seed: 3 });
    assert.ok(torch.equal(a.adversarial, b.adversarial) && torch.equal(a.epsilon, b.epsilon), "same seed, same result");
    assert.ok(!torch.equal(a.adversarial, search.search(model, x, labels, { seed: 4 }).adversarial), "another seed, another random start");
  }));
});

describe("invariants on random networks", () => {
  const attacks = (): Attack[] => [
    new L2DeepFool(), new LinfDeepFool(),
    new FMN("l0", { steps: 20 }), new FMN("l1", { steps: 20 }), new FMN("l2", { steps: 20 }), new FMN("linf", { steps: 20 }),
    new CarliniWagnerL2({ binarySearchSteps: 3, steps: 20 }), new DDN({ steps: 20 }),
    new EpsilonBinarySearch(new PGD("l2", { steps: 5 }), { high: 3, steps: 4 }),
  ];
  const epsilons = [0.01, 0.05, 0.1, 0.3, 1, 3];

  test("inside the bounds and each ε-ball, success monotone in ε, same seed → same output", tidyTest((own) => {
    const model = new AttackModel(own(new Mlp(2)), { bounds: [0, 1] });
    const x = randomInputs([8, 2, 3, 3], 2);
    const labels = randomInputs([8], 3).mul(4).floor().long();
    for (const attack of attacks()) {
      const r = attack.run(model, x, labels, { epsilons, seed: 5 });
      const again = attack.run(model, x, labels, { epsilons, seed: 5 });
      assert.ok(torch.equal(r.raw[0]!, again.raw[0]!), `${attack.name}: same seed, same output`);
      const norm = attack.distance;
      r.clipped.forEach((c, k) => {
        assert.ok(c.min().item() >= 0 && c.max().item() <= 1, `${attack.name}: clipped outside the bounds`);
        values(r.norms[norm].select(0, k)).forEach((v) => assert.ok(v <= epsilons[k]! + 1e-6, `${attack.name}: ${norm} ${v} > ε ${epsilons[k]}`));
      });
      assert.ok(r.raw[0]!.min().item() >= 0 && r.raw[0]!.max().item() <= 1, `${attack.name}: raw outside the bounds`);
      const success = rows(r.success.to("int64"));
      for (let k = 1; k < epsilons.length; k++) {
        success[k]!.forEach((s, i) => assert.ok(s >= success[k - 1]![i]!, `${attack.name}: success not monotone at example ${i}`));
      }
    }
  }));

  test("no tensor accumulates from one iteration to the next", tidyTest((own) => {
    const x = randomInputs([8, 2, 3, 3], 8);
    const labels = randomInputs([8], 9).mul(4).floor().long();
    const long: Attack[] = [
      new L2DeepFool({ candidates: 3 }), new FMN("l1", { steps: 60 }), new FMN("l0", { steps: 60 }),
      new CarliniWagnerL2({ binarySearchSteps: 2, steps: 40, abortEarly: false }), new DDN({ steps: 60 }),
      new EpsilonBinarySearch(new PGD("linf", { steps: 3 }), { high: 0.5, steps: 6 }),
    ];
    for (const attack of long) {
      const probe = own(new MemoryProbe(new Mlp(8)));
      torch.tidy(() => attack.run(new AttackModel(probe, { bounds: [0, 1] }), x, labels, { epsilons: null }));
      // The last two passes are the result's (clipped and clean logits), made while the result is being built.
      const loop = probe.counts.slice(1, -2);
      const growth = Math.max(...loop) - loop[0]!;
      assert.ok(loop.length >= 4 && growth <= 8, `${attack.name}: ${growth} more live tensors over ${loop.length} passes`);
    }
  }));

  test("parameters' gradients, requiresGrad flags and training mode are untouched", tidyTest((own) => {
    const net = own(createModel("fc", { inputShape: [2, 3, 3], width: 12, classes: 4, seed: 4 }));
    const params = net.parameters();
    const marker = torch.keep(torch.fullLike(params[0]!, 0.25));
    params[0]!.grad = marker;
    net.train();
    const model = new AttackModel(net);
    const x = randomInputs([4, 2, 3, 3], 4);
    const labels = torch.tensor([0, 1, 2, 3]);
    for (const attack of attacks()) attack.run(model, x, labels, { epsilons: 0.1 });
    params.forEach((p, i) => {
      const g = p.grad;
      if (i === 0) assert.ok(torch.equal(g!, marker), "a set gradient changed");
      else assert.equal(g, undefined, `parameter ${i} got a gradient`);
      assert.ok(p.requiresGrad);
    });
    assert.ok(net.training);
    marker.dispose();
    params[0]!.grad = undefined;
  }));

  test("targeted criteria: FMN, CW and DDN reach the target", tidyTest((own) => {
    const model = new AttackModel(own(new Mlp(6)), { bounds: [0, 1] });
    const x = randomInputs([6, 2, 3, 3], 6);
    const criterion = nextClassTargets(model.predict(x), 4);
    for (const attack of [new FMN("l2"), new CarliniWagnerL2({ steps: 200 }), new DDN()]) {
      const r = attack.run(model, x, criterion, { epsilons: null });
      const hit = torch.tidy(() => model.predict(r.raw[0]!).eq(criterion.targets).logicalOr(r.success.select(0, 0).logicalNot()));
      assert.ok(torch.all(hit).item(), `${attack.name}: a success that is not the target`);
      const successes = values(r.success).filter(Boolean).length;
      // CW solves this small problem; FMN and DDN with their defaults crawl toward the boundary from inside on some examples.
      assert.ok(attack instanceof CarliniWagnerL2 ? successes === 6 : successes >= 1, `${attack.name}: ${successes} targeted successes`);
    }
  }));

  test("an untargeted attack leaves already misclassified inputs where they are", tidyTest((own) => {
    const model = new AttackModel(own(new Mlp(7)), { bounds: [0, 1] });
    const x = randomInputs([5, 2, 3, 3], 7);
    const wrong = nextClassTargets(model.predict(x), 4).targets;
    for (const attack of [new L2DeepFool(), new FMN("linf"), new DDN(), new CarliniWagnerL2({ steps: 20, binarySearchSteps: 2 })]) {
      const r = attack.run(model, x, misclassification(wrong), { epsilons: 0 });
      assert.deepEqual(values(r.success), new Array(5).fill(1), attack.name);
      assert.ok(r.raw[0]!.allclose(x, 0, 1e-6), `${attack.name} moved an input that was already adversarial`);
    }
  }));
});
