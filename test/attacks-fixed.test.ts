import assert from "node:assert/strict";
import { test } from "node:test";
import { torch } from "../src/index.js";
import type { Tensor } from "../src/torch/index.js";
import { Module } from "../src/nn/index.js";
import { createModel } from "../src/models/index.js";
import {
  AttackModel, BIM, FGM, FGSM, PGD, PaperBTargetedPGD, RandomNoise, SparseL1Descent, clipPerturbation, leastLikelyTargets,
  misclassification, nextClassTargets, norms, projectL1, randomLike, randomTargets, restartSeed, sparseL1Direction, targeted,
  uniformBall, type Attack, type AttackResult, type Norm,
} from "../src/attacks/index.js";
import { assertClose, values } from "./helpers.js";

const { tidy } = torch;
const F = torch.nn.functional;

/** Runs fn in one tidy scope and checks that no tensor outlived it. */
function scoped(fn: () => void): void {
  const before = torch.memory().tensors;
  tidy(fn);
  assert.equal(torch.memory().tensors, before, "tensors left alive");
}

/** z = W·flatten(x) + b, or with margin = true the single output f(x) = w·x + b of shape [N]. */
class Affine extends Module {
  constructor(weight: Tensor, bias: Tensor, private readonly margin = false) {
    super();
    this.param("weight", weight);
    this.param("bias", bias);
  }
  forward(x: Tensor): Tensor {
    const z = F.linear(x.flatten(1), this.get("weight"), this.get("bias"));
    return this.margin ? z.reshape(-1) : z;
  }
}

function withModule<M extends Module>(m: M, fn: (m: M) => void): void {
  try {
    scoped(() => fn(m));
  } finally {
    m.dispose();
  }
}

const tiny = (seed = 0) => createModel("fc", { inputShape: [1, 6, 6], width: 16, classes: 4, seed });
const close = (a: Tensor, b: Tensor, atol = 1e-6) => assert.ok(a.allclose(b, 0, atol), `max diff ${tidy(() => a.sub(b).abs().max().item())}`);
const bools = (t: Tensor) => values(t).map((v) => v !== 0);

// A binary linear problem away from the bounds: x in [0.3, 0.7]^d, ε = 0.1.
function binaryProblem(margin: boolean) {
  const g = new torch.Generator(5);
  const d = 20;
  const w = tidy(() => torch.randn([d], { generator: g }));
  const model = margin
    ? new Affine(w.reshape(1, d), torch.zeros([1]), true)
    : new Affine(torch.stack([w.mul(-0.5), w.mul(0.5)]), torch.zeros([2]));
  const x = tidy(() => torch.rand([8, d], { generator: g }).mul(0.4).add(0.3));
  g.dispose();
  return { w, model, x, y: torch.tensor([0, 1, 0, 1, 1, 0, 1, 0]) };
}

/** ±1 for labels 0/1, shaped [N, 1]. */
const pm = (y: Tensor) => y.mul(2).sub(1).unsqueeze(1).to("float32");

test("FGSM and FGM on a 2-logit linear classifier: the closed-form optimal perturbations", () => {
  const { w, model, x, y } = binaryProblem(false);
  withModule(model, (m) => {
    const fm = new AttackModel(m);
    const eps = 0.1;
    const linf = new FGSM().run(fm, x, y, { epsilons: eps });
    close(linf.clipped[0]!.sub(x), w.sign().unsqueeze(0).mul(pm(y)).mul(-eps));
    const l2 = new FGM("l2").run(fm, x, y, { epsilons: eps });
    close(l2.clipped[0]!.sub(x), w.div(w.norm()).unsqueeze(0).mul(pm(y)).mul(-eps));
    assertClose(l2.norms.l2, new Array(8).fill(eps), 1e-6);
  });
  w.dispose(); x.dispose(); y.dispose();
});

test("PGD L∞ with enough steps reaches −ε·sign(w)·y and the optimal margin (binary margin model)", () => {
  const { w, model, x, y } = binaryProblem(true);
  withModule(model, (m) => {
    const fm = new AttackModel(m);
    const eps = 0.1;
    const r = new PGD("linf", { steps: 100 }).run(fm, x, y, { epsilons: eps, seed: 3 });
    close(r.clipped[0]!.sub(x), w.sign().unsqueeze(0).mul(pm(y)).mul(-eps));
    // The logit difference of the presented 2 logits is f itself; its signed margin drops by ε‖w‖₁.
    const marginOf = (t: Tensor) => torch.noGrad(() => {
      const z = fm.logits(t);
      return z.select(1, 1).sub(z.select(1, 0)).mul(pm(y).reshape(-1));
    });
    assertClose(marginOf(r.clipped[0]!), values(marginOf(x).sub(w.abs().sum().mul(eps))), 1e-5);
    assert.equal(fm.marginOutput, true);
    // Hence success at ε ⇔ margin < ε‖w‖₁ (or a clean error): exactly monotone in ε.
    const grid = [0.02, 0.05, 0.1, 0.2];
    const many = new PGD("linf", { steps: 100 }).run(fm, x, y, { epsilons: grid, seed: 3 });
    const m0 = values(marginOf(x));
    const l1w = w.abs().sum().item();
    assert.deepEqual(bools(many.success), grid.flatMap((e) => m0.map((v) => v < e * l1w)));
    // Radial projection turns a random start toward the optimum by a factor ≈ (1 − rel_stepsize) per step.
    const l2 = new PGD("l2", { steps: 200, relStepsize: 0.1 }).run(fm, x, y, { epsilons: 0.5, seed: 3 });
    close(l2.clipped[0]!.sub(x), w.div(w.norm()).unsqueeze(0).mul(pm(y)).mul(-0.5), 1e-5);
  });
  w.dispose(); x.dispose(); y.dispose();
});

/** PGD from tensor primitives, written independently of src/attacks (Foolbox 3's loop). */
function referencePgd(m: Module, x0: Tensor, y: Tensor, eps: number, norm: "linf" | "l2", steps: number, rel: number, seed: number): Tensor {
  m.eval();
  const g = new torch.Generator(seed);
  const perExample = (t: Tensor, p: number) => t.flatten(1).norm(p, 1).clamp(1e-12).reshape(-1, 1, 1, 1);
  let x: Tensor;
  if (norm === "linf") {
    x = torch.rand(x0.shape, { generator: g }).mul(2).sub(1).mul(eps).add(x0).clamp(0, 1);
  } else {
    const n = x0.numel / x0.shape[0]!;
    const s = torch.randn([x0.shape[0]!, n + 2], { generator: g });
    x = s.div(s.norm(2, 1, true)).narrow(1, 0, n).reshape(...x0.shape).mul(eps).add(x0).clamp(0, 1);
  }
  g.dispose();
  for (let i = 0; i < steps; i++) {
    const xg = x.detach().requiresGrad_(true);
    const loss = F.crossEntropy(m.forward(xg), y, { reduction: "sum" });
    const [grad] = torch.autograd.grad(loss, [xg]);
    const dir = norm === "linf" ? grad!.sign() : grad!.div(perExample(grad!, 2));
    const delta = x.add(dir.mul(rel * eps)).sub(x0);
    const projected = norm === "linf" ? delta.clamp(-eps, eps) : delta.mul(perExample(delta, 2).reciprocal().mul(eps).clamp(null, 1));
    x = x0.add(projected).clamp(0, 1);
  }
  return x;
}

test("PGD equals a step-by-step reference implementation on a fixed seed (L∞ and L2)", () => {
  withModule(tiny(1), (m) => {
    const fm = new AttackModel(m);
    const g = new torch.Generator(11);
    const x = torch.rand([6, 1, 6, 6], { generator: g });
    g.dispose();
    const y = torch.tensor([0, 1, 2, 3, 0, 1]);
    const linf = new PGD("linf", { steps: 15 }).run(fm, x, y, { epsilons: 0.05, seed: 7 });
    close(linf.raw[0]!, referencePgd(m, x, y, 0.05, "linf", 15, 0.01 / 0.3, 7));
    const l2 = new PGD("l2", { steps: 15 }).run(fm, x, y, { epsilons: 0.3, seed: 7 });
    close(l2.raw[0]!, referencePgd(m, x, y, 0.3, "l2", 15, 0.025, 7), 1e-5);
  });
});

const invariantAttacks = (): [Attack, number[]][] => [
  [new FGSM(), [0.02, 0.1, 0.3]],
  [new FGM("l2"), [0.1, 0.5, 2]],
  [new FGM("l1"), [0.5, 2, 5]],
  [new BIM("linf"), [0.02, 0.1, 0.3]],
  [new BIM("l2"), [0.1, 0.5, 2]],
  [new BIM("l1"), [0.5, 2, 5]],
  [new PGD("linf", { steps: 20 }), [0.02, 0.1, 0.3]],
  [new PGD("l2", { steps: 20 }), [0.1, 0.5, 2]],
  [new PGD("l1", { steps: 20 }), [0.5, 2, 5]],
  [new SparseL1Descent(), [0.5, 2, 5]],
  [new PGD("linf", { steps: 20, bestIterate: true, earlyStop: true }), [0.02, 0.1, 0.3]],
  [new PGD("l2", { steps: 10, preset: "torchattacks" }).repeat(2), [0.1, 0.5, 2]],
  [new RandomNoise("l2"), [0.1, 0.5, 2]],
  [new RandomNoise("linf"), [0.02, 0.1, 0.3]],
];

function checkResult(r: AttackResult, x: Tensor, labels: Tensor, fm: AttackModel, norm: Norm, eps: number[], name: string): void {
  const n = x.shape[0]!;
  assert.equal(r.raw.length, eps.length, name);
  assert.equal(r.clipped.length, eps.length, name);
  assert.deepEqual(r.success.shape, [eps.length, n], name);
  assert.equal(r.success.dtype, "bool", name);
  const cleanCorrect = bools(r.cleanCorrect);
  eps.forEach((e, k) => {
    const c = r.clipped[k]!;
    for (const v of values(norms(c.sub(x), norm))) assert.ok(v <= e + 1e-6, `${name}: ‖δ‖ = ${v} > ε = ${e}`);
    assert.ok(c.min().item() >= 0 && c.max().item() <= 1, `${name}: outside the bounds`);
    assert.deepEqual(bools(r.success.select(0, k)), bools(fm.predict(c).ne(labels)), `${name}: success is the criterion on clipped`);
    assert.deepEqual(bools(r.successOnCorrect.select(0, k)), bools(r.success.select(0, k)).map((s, i) => s && cleanCorrect[i]!), `${name}: paper A's success`);
    assertClose(r.norms.l2.select(0, k), values(norms(c.sub(x), "l2")), 1e-6, `${name}: norms`);
    // Per example, success need not grow with ε on a nonlinear model (a random start or a
    // different path can miss); the success rate must. Exact monotonicity is checked on linear models.
    if (k > 0) assert.ok(values(r.success.select(0, k).sum())[0]! >= values(r.success.select(0, k - 1).sum())[0]!, `${name}: success rate fell as ε grew`);
  });
}
test("invariants on a small network: ‖clipped − x‖ ≤ ε, inside bounds, success on clipped, monotone in ε", () => {
  for (const model of [tiny(2), createModel("bwconv", { inputShape: [1, 6, 6], channels: 3, classes: 4, seed: 3 })]) {
    withModule(model, (m) => {
      const fm = new AttackModel(m);
      const g = new torch.Generator(12);
      const x = torch.rand([10, 1, 6, 6], { generator: g });
      g.dispose();
      const y = fm.predict(x);
      const copy = x.clone();
      for (const [attack, eps] of invariantAttacks()) {
        tidy(() => checkResult(attack.run(fm, x, misclassification(y), { epsilons: eps, seed: 1 }), x, y, fm, attack.distance, eps, attack.name));
      }
      assert.ok(torch.equal(x, copy), "an attack modified its inputs");
    });
  }
});

test("the same seed gives the same output, another seed another; an ε's result does not depend on the others", () => {
  withModule(tiny(4), (m) => {
    const fm = new AttackModel(m);
    const x = torch.full([4, 1, 6, 6], 0.5);
    const y = torch.tensor([0, 1, 2, 3]);
    const pgd = new PGD("l2", { steps: 5 });
    const a = pgd.run(fm, x, y, { epsilons: [0.2, 0.5], seed: 9 });
    const b = pgd.run(fm, x, y, { epsilons: [0.2, 0.5], seed: 9 });
    const c = pgd.run(fm, x, y, { epsilons: 0.5, seed: 9 });
    const d = pgd.run(fm, x, y, { epsilons: 0.5, seed: 10 });
    assert.ok(torch.equal(a.raw[1]!, b.raw[1]!) && torch.equal(a.raw[0]!, b.raw[0]!));
    assert.ok(torch.equal(a.raw[1]!, c.raw[0]!));
    assert.ok(!torch.equal(c.raw[0]!, d.raw[0]!));
    assert.ok(torch.equal(pgd.repeat(1).run(fm, x, y, { epsilons: 0.5, seed: 9 }).raw[0]!, c.raw[0]!), "repeat(1) is the attack itself");
  });
});

test("repeat(n) keeps the first success of n seeded restarts", () => {
  withModule(tiny(5), (m) => {
    const fm = new AttackModel(m);
    const g = new torch.Generator(13);
    const x = torch.rand([16, 1, 6, 6], { generator: g });
    g.dispose();
    const y = fm.predict(x);
    const pgd = new PGD("linf", { steps: 3 });
    const eps = [0.01, 0.03];
    const runs = [0, 1, 2].map((i) => pgd.run(fm, x, y, { epsilons: eps, seed: restartSeed(4, i) }));
    const rep = pgd.repeat(3).run(fm, x, y, { epsilons: eps, seed: 4 });
    const any = runs.reduce((s, r) => s.logicalOr(r.success), torch.zeros(rep.success.shape, { dtype: "bool" }));
    assert.deepEqual(bools(rep.success), bools(any));
    eps.forEach((_, k) => {
      // Where the first run succeeded, its output is kept.
      const first = runs[0]!.success.select(0, k);
      close(rep.clipped[k]!.sub(runs[0]!.clipped[k]!).mul(first.reshape(-1, 1, 1, 1).to("float32")), torch.zerosLike(x));
    });
    assert.equal(pgd.repeat(2).repeat(3).name.endsWith("×6"), true);
  });
});

/** Records what the wrapped module saw while it ran. */
class Spy extends Module {
  seen: { training: boolean; requiresGrad: boolean[] }[] = [];
  constructor(readonly inner: Module) {
    super();
    this.child("inner", inner);
  }
  forward(x: Tensor): Tensor {
    this.seen.push({ training: this.inner.training, requiresGrad: this.parameters().map((p) => p.requiresGrad) });
    return this.inner.forward(x);
  }
}

test("an attack runs in eval mode without parameter gradients and restores modes, flags and .grad", () => {
  withModule(new Spy(createModel("shallow-resnet", { inputShape: [3, 8, 8], channels: 2, classes: 3 })), (m) => {
    const params = m.parameters();
    const g = new torch.Generator(14);
    const x = torch.rand([3, 3, 8, 8], { generator: g });
    g.dispose();
    const y = torch.tensor([0, 1, 2]);
    F.crossEntropy(m.forward(x), y).backward();
    const grads = params.map((p) => p.grad!);
    params[0]!.requiresGrad_(false);
    const flags = params.map((p) => p.requiresGrad);
    m.train();
    m.inner.children()[0]![1].eval(); // a mixed-mode model must come back mixed
    const modes = [m.training, m.inner.children()[0]![1].training];
    m.seen = [];
    new PGD("linf", { steps: 3 }).run(new AttackModel(m), x, y, { epsilons: 0.03 });
    assert.ok(m.seen.length > 0);
    for (const s of m.seen) {
      assert.equal(s.training, false);
      assert.ok(s.requiresGrad.every((f) => !f), "parameters must not require grad during the attack");
    }
    assert.deepEqual(params.map((p) => p.requiresGrad), flags);
    assert.deepEqual([m.training, m.inner.children()[0]![1].training], modes);
    params.forEach((p, i) => {
      const after = p.grad;
      if (grads[i] === undefined) assert.equal(after, undefined);
      else assert.ok(torch.equal(after!, grads[i]!), "parameter .grad changed");
    });
  });
});

test("the model wrapper refuses inputs outside its bounds and applies preprocessing inside", () => {
  withModule(createModel("fc", { inputShape: [3, 2, 2], width: 8, classes: 3 }), (m) => {
    const fm = new AttackModel(m);
    const y = torch.tensor([0]);
    assert.throws(() => new PGD().run(fm, torch.full([1, 3, 2, 2], 1.2), y, { epsilons: 0.1 }), /within the model's bounds \[0, 1\].*max 1\.2/);
    assert.throws(() => new PGD().run(fm, torch.full([1, 3, 2, 2], NaN), y, { epsilons: 0.1 }), RangeError);
    assert.throws(() => new AttackModel(m, { bounds: [1, 0] }), RangeError);
    assert.throws(() => new AttackModel(m, { preprocessing: { std: [0.2, 0] } }), /positive/);
    const mean = [0.4914, 0.4822, 0.4465];
    const std = [0.247, 0.243, 0.261];
    const pre = new AttackModel(m, { preprocessing: { mean, std } });
    const g = new torch.Generator(0);
    const x = torch.rand([2, 3, 2, 2], { generator: g });
    g.dispose();
    const manual = m.forward(x.sub(torch.tensor(mean).reshape(3, 1, 1)).div(torch.tensor(std).reshape(3, 1, 1)));
    close(pre.logits(x), manual, 1e-5);
    const wide = new AttackModel(m, { bounds: [-1, 2] });
    assert.doesNotThrow(() => wide.checkInputs(torch.full([1, 3, 2, 2], 1.5)));
    pre.dispose();
  });
});

test("criteria: random, next-class and least-likely targets; targeted attacks hit them", () => {
  withModule(createModel("fc", { inputShape: [1, 6, 6], width: 16, classes: 4, activation: "linear", seed: 6 }), (m) => {
    const fm = new AttackModel(m);
    const g = new torch.Generator(15);
    const x = torch.rand([12, 1, 6, 6], { generator: g });
    g.dispose();
    const y = fm.predict(x);
    const rnd = randomTargets(y, 4, 3);
    assert.ok(bools(rnd.targets.ne(y)).every(Boolean));
    assert.ok(torch.equal(rnd.targets, randomTargets(y, 4, 3).targets));
    assert.ok(values(rnd.targets).every((t) => t >= 0 && t < 4));
    assert.deepEqual(values(nextClassTargets(y, 4).targets), values(y).map((v) => (v + 1) % 4));
    const ll = leastLikelyTargets(fm, x, y);
    assert.ok(torch.equal(ll.targets, fm.logits(x).argmin(1)));
    for (const criterion of [rnd, ll, targeted(y, nextClassTargets(y, 4).targets)]) {
      for (const attack of [new PGD("linf", { steps: 60 }), new PGD("l2", { steps: 60 })]) {
        const r = attack.run(fm, x, criterion, { epsilons: attack.distance === "linf" ? 1 : 20, seed: 0 });
        assert.ok(torch.equal(fm.predict(r.clipped[0]!), criterion.targets), `${attack.name} misses targets`);
        assert.ok(bools(r.success).every(Boolean));
      }
    }
    // Foolbox's success counts clean errors; paper A's does not.
    const wrong = nextClassTargets(y, 4).targets;
    const r = new FGSM().run(fm, x, wrong, { epsilons: 0 });
    assert.ok(bools(r.success).every(Boolean));
    assert.ok(bools(r.successOnCorrect).every((s) => !s));
    assert.throws(() => new PGD().run(fm, x, torch.tensor([0, 1]), { epsilons: 0.1 }), /2 labels for 12 inputs/);
    assert.throws(() => new PGD().run(fm, x, y, { epsilons: [0.1, null] }), /fixed-ε/);
  });
});

test("paper B's targeted PGD: L2 and L∞ closed forms on a linear margin model, L0 picks the top-|w| coordinates", () => {
  const g = new torch.Generator(21);
  const d = 30;
  const w = torch.randn([d], { generator: g });
  const x = tidy(() => torch.randn([4, d], { generator: g }).mul(0.05)); // small margins: every budget below flips them
  g.dispose();
  withModule(new Affine(w.reshape(1, d), torch.zeros([1]), true), (m) => {
    const fm = new AttackModel(m, { bounds: [-100, 100] });
    const labels = torch.tensor([0, 1, 0, 1]);
    const c = targeted(labels, torch.tensor([1, 0, 1, 0]));
    const yt = pm(c.targets);
    const eps = 0.5;
    const l2 = new PaperBTargetedPGD("l2", { steps: 20 }).run(fm, x, c, { epsilons: eps });
    close(l2.raw[0]!.sub(x), w.div(w.norm()).unsqueeze(0).mul(yt).mul(eps), 1e-5);
    // Max-abs normalised steps and renorm rescaling: δ ∝ w, not ∝ sign(w).
    const linf = new PaperBTargetedPGD("linf", { steps: 20 }).run(fm, x, c, { epsilons: eps });
    close(linf.raw[0]!.sub(x), w.div(w.abs().max()).unsqueeze(0).mul(yt).mul(eps), 1e-5);
    const clip = new PaperBTargetedPGD("linf", { steps: 20, linfProjection: "clip" }).run(fm, x, c, { epsilons: eps });
    // Clipping instead: 20 steps of ε/5 saturate only the coordinates with |w_i| ≥ ‖w‖∞/4.
    close(clip.raw[0]!.sub(x), w.div(w.abs().max()).unsqueeze(0).mul(yt).mul(4 * eps).clamp(-eps, eps), 1e-5);
    const k = 5;
    const l0 = new PaperBTargetedPGD("l0").run(fm, x, c, { epsilons: k });
    const top = new Set(values(torch.topk(w.abs(), k).indices));
    for (let i = 0; i < 4; i++) {
      const changed = values(l0.raw[0]!.select(0, i).sub(x.select(0, i))).flatMap((v, j) => (v !== 0 ? [j] : []));
      assert.deepEqual(new Set(changed), top);
    }
    assert.ok(bools(l0.success).every(Boolean) && bools(l2.success).every(Boolean));
    assert.throws(() => new PaperBTargetedPGD("l2").run(fm, x, labels, { epsilons: 1 }), /targeted/);
  });
  w.dispose(); x.dispose();
});

test("paper B's attack returns the best iterate by target loss, the start included", () => {
  withModule(tiny(7), (m) => {
    const fm = new AttackModel(m);
    const g = new torch.Generator(16);
    const x = torch.rand([8, 1, 6, 6], { generator: g });
    g.dispose();
    const y = fm.predict(x);
    const c = nextClassTargets(y, 4);
    const loss = (t: Tensor) => values(F.crossEntropy(fm.logits(t), c.targets, { reduction: "none" }));
    for (const [norm, eps] of [["l2", 1], ["linf", 0.1], ["l0", 6]] as const) {
      const r = new PaperBTargetedPGD(norm).run(fm, x, c, { epsilons: eps });
      const [before, after] = [loss(x), loss(r.raw[0]!)];
      after.forEach((v, i) => assert.ok(v <= before[i]! + 1e-6, `${norm}: loss rose at example ${i}`));
      for (const v of values(r.norms[norm])) assert.ok(v <= eps + 1e-6, `${norm}: ${v} > ${eps}`);
    }
    // With a huge step the L∞ iterates overshoot and come back worse; the best one is kept.
    const big = new PaperBTargetedPGD("linf", { steps: 3, stepsize: 5 }).run(fm, x, c, { epsilons: 0.2 });
    loss(big.raw[0]!).forEach((v, i) => assert.ok(v <= loss(x)[i]! + 1e-6));
  });
});

test("presets resolve to the documented step rules; undefined combinations are refused", () => {
  const cfg = (a: { config: object }) => ({ ...a.config });
  assert.deepEqual(cfg(new PGD("linf")), { preset: "foolbox", steps: 40, relStepsize: 0.01 / 0.3, absStepsize: undefined, randomStart: true, bestIterate: false, earlyStop: false });
  assert.deepEqual(cfg(new PGD("l2")), { preset: "foolbox", steps: 50, relStepsize: 0.025, absStepsize: undefined, randomStart: true, bestIterate: false, earlyStop: false });
  assert.equal(new PGD("l1").config.relStepsize, 0.025);
  assert.deepEqual([new BIM("l2").config.relStepsize, new BIM("l2").config.steps, new BIM("l2").config.randomStart], [0.2, 10, false]);
  const native = new PGD("linf", { preset: "foolbox-native-2020" });
  assert.deepEqual([native.stepsize(8 / 255), native.config.steps, native.config.randomStart, native.config.bestIterate], [0.01, 1000, true, false]);
  assert.equal(new PGD("linf", { preset: "madry" }).stepsize(8 / 255), 2 / 255);
  assert.deepEqual([new PGD("linf", { preset: "torchattacks" }).stepsize(0.3), new PGD("l2", { preset: "torchattacks" }).stepsize(1)], [2 / 255, 0.2]);
  assert.equal(new PGD("linf", { absStepsize: 0.05, relStepsize: 0.1 }).stepsize(1), 0.05);
  assert.equal(new PGD("linf", { preset: "torchattacks", relStepsize: 0.1 }).stepsize(1), 0.1);
  assert.equal(new FGM("l2").stepsize(0.7), 0.7);
  assert.throws(() => new PGD("l2", { preset: "madry" }), /defines no PGD l2/);
  assert.throws(() => new BIM("linf", { preset: "foolbox-native-2020" }), /defines no BIM/);
  assert.throws(() => new PGD("l3" as "l2"), /norm/);
  assert.throws(() => new PGD("linf", { steps: 0 }), /steps/);
  assert.match(new PGD("linf", { preset: "foolbox-native-2020" }).name, /1000 steps, abs step 0.01, random start/);
});

test("norms: exact L1 projection, Foolbox's clipping, sparse L1 direction, uniform ball samples", () => {
  scoped(() => {
    const g = new torch.Generator(17);
    const delta = torch.randn([5, 3, 4], { generator: g });
    const eps = 2;
    const p = projectL1(delta, eps);
    assertClose(norms(p, "l1"), new Array(5).fill(eps), 1e-5);
    // Against a plain sort-based projection per example.
    for (let i = 0; i < 5; i++) {
      const v = values(delta.select(0, i).flatten());
      const mu = v.map(Math.abs).sort((a, b) => b - a);
      let s = 0, theta = 0;
      mu.forEach((m, j) => { s += m; if (m - (s - eps) / (j + 1) > 0) theta = (s - eps) / (j + 1); });
      assertClose(p.select(0, i).flatten(), v.map((x) => Math.sign(x) * Math.max(Math.abs(x) - theta, 0)), 1e-5);
    }
    close(projectL1(delta.mul(0.01), eps), delta.mul(0.01));
    // Foolbox's clipped output: L1 radial rescale, L∞ clip, bounds.
    const x0 = torch.full([5, 3, 4], 0.5);
    const c1 = clipPerturbation(x0, x0.add(delta.mul(0.1)), 0.3, "l1", [0, 1]);
    close(c1.sub(x0), delta.mul(0.1).mul(norms(delta.mul(0.1), "l1").reciprocal().mul(0.3).clamp(null, 1).reshape(-1, 1, 1)), 1e-6);
    const c0 = clipPerturbation(x0, x0.add(delta), 3, "l0", [0, 1]);
    assert.ok(values(norms(c0.sub(x0), "l0")).every((v) => v <= 3));
    // numpy.quantile(|g|, 0.5) of 1..4 is 2.5: the two largest coordinates keep their sign.
    const grad = torch.tensor([[-1, 4, -3, 2]], { dtype: "float32" });
    assertClose(sparseL1Direction(grad, torch.full([1, 4], 0.5), [0, 1], 0.5), [0, 0.5, -0.5, 0]);
    // A coordinate at the upper bound is not pushed further up.
    assertClose(sparseL1Direction(grad, torch.tensor([[0.5, 1, 0.5, 0.5]]), [0, 1], 0.5), [0, 0, -0.5, 0.5]);
    for (const n of ["l1", "l2", "linf"] as const) {
      const b = uniformBall(torch.zeros([64, 10]), n, g);
      const sizes = values(norms(b, n));
      assert.ok(sizes.every((v) => v <= 1 + 1e-6), n);
      assert.ok(Math.max(...sizes) > 0.8, `${n}: samples should fill the ball`);
    }
    g.dispose();
  });
});

test("random baseline: a Gaussian direction with the perturbation's L2 or L∞ size, clipped to bounds", () => {
  scoped(() => {
    const g = new torch.Generator(18);
    const x = torch.full([4, 1, 5, 5], 0.5);
    const delta = torch.randn([4, 1, 5, 5], { generator: g }).mul(0.02);
    g.dispose();
    delta.select(0, 3).zero_();
    for (const norm of ["l2", "linf"] as const) {
      const r = randomLike(x, delta, { norm, seed: 2 });
      assertClose(norms(r.sub(x), norm), values(norms(delta, norm)), 1e-5);
      assert.ok(torch.equal(r, randomLike(x, delta, { norm, seed: 2 })));
      assert.ok(!torch.equal(r, randomLike(x, delta, { norm, seed: 3 })));
    }
    const far = randomLike(x, delta.mul(100), { seed: 2 });
    assert.ok(far.min().item() >= 0 && far.max().item() <= 1);
  });
});
