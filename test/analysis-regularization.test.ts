import assert from "node:assert/strict";
import { test } from "node:test";
import { analysis, torch } from "../src/index.js";
import { createModel } from "../src/models/index.js";
import { AttackModel } from "../src/nn/attack-model.js";
import type { Module } from "../src/nn/index.js";
import type { Tensor } from "../src/torch/index.js";
import { assertClose, f64, values } from "./helpers.js";

const { tidy } = torch;
const F = torch.nn.functional;
const { jacobianSpectra, layerSpectra, linearPredictor, outputConfidence, reshapedKernelSingularValues, summarizeSingularValues } = analysis;

test("outputConfidence: margin, confidence and entropy of hand-computed logits", () => tidy(() => {
  const z = [[1, 2, 3, 4], [0, 0, 0, 0], [2, -1, 0.5, 1]];
  const labels = torch.tensor([3, 1, 1]);
  const got = outputConfidence(torch.tensor(z), labels);
  const softmax = (row: number[]) => row.map((v) => Math.exp(v) / row.reduce((s, u) => s + Math.exp(u), 0));
  const p = z.map(softmax);
  assertClose(got.margin, [4 - 3, 0, -1 - 2], 1e-6, "margin (+ right, 0 tie, − wrong)");
  assertClose(got.confidence, p.map((r) => Math.max(...r)), 1e-6, "confidence");
  assertClose(got.entropy, p.map((r) => -r.reduce((s, q) => s + q * Math.log(q), 0)), 1e-6, "entropy");
  assertClose(got.confidence.select(0, 1).item(), 1 / 4, 1e-12, "uniform: 1/K");
  assertClose(got.entropy.select(0, 1).item(), Math.log(4), 1e-12, "uniform: log K");
  for (const t of [got.margin, got.confidence, got.entropy]) assert.deepEqual([t.dtype, t.device, t.shape], ["float64", "cpu", [3]]);

  // Saturated float32 logits keep their digits in float64; a −∞ logit contributes 0 · log 0 = 0.
  const sat = outputConfidence(torch.tensor([[40, 0, -Infinity], [7, 7, 7]]), torch.tensor([1, 0]));
  assertClose(sat.margin, [-40, 0], 1e-12);
  assertClose(sat.entropy, [41 * Math.exp(-40), Math.log(3)], 1e-6);
  assert.ok(sat.entropy.select(0, 0).item() > 0, "tiny entropy, not rounded to 0");

  assert.throws(() => outputConfidence(torch.zeros([2, 1]), torch.tensor([0, 0])), RangeError);
  assert.throws(() => outputConfidence(torch.zeros([2, 3]), torch.tensor([0])), RangeError);
}));

test("summarizeSingularValues: flat spectrum 1, one direction 0, a closed-form pair", () => tidy(() => {
  const flat = summarizeSingularValues(torch.tensor([2, 2, 2, 2], { dtype: "float32" }));
  assert.deepEqual(flat, { max: 2, mean: 2, min: 2, ratio: 1, entropy: 1 });
  const one = summarizeSingularValues(torch.tensor([0, 3, 0]));
  assert.deepEqual([one.entropy, one.ratio, one.max], [0, 0, 3]);
  const pair = summarizeSingularValues(torch.tensor([1, 3], { dtype: "float64" })); // any order
  assertClose([pair.max, pair.mean, pair.min, pair.ratio, pair.entropy],
    [3, 2, 1, 1 / 3, -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25)) / Math.log(2)], 1e-12);
  assert.equal(summarizeSingularValues(torch.tensor([5])).entropy, 0, "n = 1");
  assert.ok(Number.isNaN(summarizeSingularValues(torch.zeros([3])).entropy), "all zero");
  assert.throws(() => summarizeSingularValues(torch.ones([2, 2])), RangeError);
  assert.throws(() => summarizeSingularValues(torch.zeros([0])), RangeError);
  assert.throws(() => summarizeSingularValues(torch.tensor([1, -1])), RangeError);
}));

test("reshaped kernel: svdvals of the O × C·k·k matrix; layerSpectra lists it after Sedghi's only when asked", () => {
  tidy(() => {
    const w = f64([4, 3, 3, 3], 7);
    const explicit = torch.tensor(new Float64Array(values(w)), { shape: [4, 27] });
    const got = reshapedKernelSingularValues(w);
    assert.deepEqual([got.shape, got.dtype, got.device], [[4], "float64", "cpu"]);
    assertClose(got, values(torch.linalg.svdvals(explicit)), 1e-12);
    assert.throws(() => reshapedKernelSingularValues(torch.ones([3])), RangeError);
  });
  const m = createModel("bwconv", { kernel: 3, channels: 3, inputShape: [2, 6, 6], seed: 1 });
  tidy(() => {
    const plain = layerSpectra(m, [2, 6, 6]);
    const both = layerSpectra(m, [2, 6, 6], { reshaped: true });
    assert.deepEqual(plain.map((s) => s.kind), ["conv", "dense"], "default unchanged");
    assert.deepEqual(both.map((s) => [s.name, s.kind]), [["hidden.0.weight", "conv"], ["hidden.0.weight", "conv-reshaped"], ["linear.weight", "dense"]]);
    assertClose(both[0]!.values, values(plain[0]!.values), 0);
    assertClose(both[1]!.values, values(reshapedKernelSingularValues(m.stateDict().get("hidden.0.weight")!)), 0);
  });
  m.dispose();
});

/**
 * Jacobians of a one-hidden-layer fc / bwconv (valid padding) ReLU network, float64 linear algebra
 * with no autograd: the hidden layer's matrix A (the conv's from its response to each basis image)
 * and W_out · diag(ReLU mask at x) · A for the logits. [N, M, D] each.
 */
function referenceJacobians(m: Module, x: Tensor, conv: boolean): { hidden: Tensor; logits: Tensor } {
  const sd = m.stateDict();
  const [W0, b0, W1] = ["hidden.0.weight", "hidden.0.bias", "linear.weight"].map((k) => sd.get(k)!.double());
  const [n, d] = [x.shape[0]!, x.numel / x.shape[0]!];
  const xd = x.double();
  const layer = (t: Tensor, bias?: Tensor) => (conv ? F.conv2d(t, W0!, bias) : F.linear(t.flatten(1), W0!, bias)).flatten(1);
  const A = layer(torch.eye(d, d, { dtype: "float64" }).reshape(d, ...x.shape.slice(1))).T; // [M, D]
  const mask = layer(xd, b0).gt(0).double(); // [N, M]
  return { hidden: A.unsqueeze(0).expand(n, ...A.shape), logits: W1!.matmul(A.unsqueeze(0).mul(mask.unsqueeze(2))) };
}

/** top-k of each row agree to rel relative, with a rounding floor of float32 products (1e-6 of σ_max). */
function assertTopK(got: Tensor, J: Tensor, k: number, rel: number, msg: string): void {
  const want = torch.linalg.svdvals(J).narrow(1, 0, k);
  assert.deepEqual([got.shape, got.dtype, got.device], [[J.shape[0], k], "float64", "cpu"], msg);
  const [g, w] = [values(got), values(want)];
  const floor = 1e-6 * Math.max(...w);
  g.forEach((v, i) => assert.ok(Math.abs(v - w[i]!) <= rel * w[i]! + floor, `${msg} [${Math.floor(i / k)}, ${i % k}]: got ${v}, expected ${w[i]}`));
}

test("jacobianSpectra: exact and subspace paths equal the float64 Jacobians of ReLU fc and conv nets", () => {
  const k = 3;
  const cases: [string, Record<string, unknown>, number[], boolean, number[]][] = [
    ["fc", { width: 20 }, [1, 5, 5], false, [20, 10]],
    ["bwconv", { channels: 3, kernel: 3 }, [1, 6, 6], true, [48, 10]],
  ];
  for (const seed of [1, 2, 3]) {
    for (const [name, options, shape, conv, outputs] of cases) {
      const m = createModel(name, { ...options, inputShape: shape, activation: "relu", seed });
      const before = torch.memory().tensors;
      tidy(() => {
        const x = torch.rand([4, ...shape], { generator: new torch.Generator(seed) });
        const ref = referenceJacobians(m, x, conv);
        for (const exactUpTo of [undefined, 0]) {
          const spectra = torch.noGrad(() => jacobianSpectra(m, x, { k, exactUpTo, seed }));
          const label = `${name} seed ${seed} ${exactUpTo === 0 ? "subspace" : "exact"}`;
          assert.deepEqual(spectra.map((s) => s.name), ["input→hidden.0", "input→logits"], label);
          assert.deepEqual(spectra.map((s) => [s.outputs, s.inputs]), outputs.map((o) => [o, x.numel / 4]), label);
          assert.ok(spectra.every((s) => s.method === (exactUpTo === 0 ? "subspace" : "exact")), label);
          assertTopK(spectra[0]!.values, ref.hidden, k, 1e-3, `${label} hidden`);
          for (const s of spectra.slice(1)) assertTopK(s.values, ref.logits, k, 1e-3, `${label} ${s.name}`);
        }
      });
      assert.equal(torch.memory().tensors, before, `${name}: no tensor left behind`);
      assert.ok(m.training && m.parameters().every((p) => p.requiresGrad), "mode and parameter flags restored");
      assert.ok(!Object.hasOwn(m.children()[0]![1], "forward") && !Object.hasOwn((m as unknown as { linear: object }).linear, "forward"), "forwards restored");
      m.dispose();
    }
  }
});

test("jacobianSpectra: circular and locally connected layers; subspace iteration agrees with the exact path", () => {
  for (const [name, options] of [["fwconv", { channels: 2 }], ["lc", { kernel: 3, channels: 3 }]] as const) {
    const m = createModel(name, { ...options, inputShape: [2, 5, 5], activation: "relu", seed: 4 });
    tidy(() => {
      const x = torch.rand([3, 2, 5, 5], { generator: new torch.Generator(4) });
      const exact = jacobianSpectra(m, x, { k: 4, exactUpTo: 1000 });
      const sub = jacobianSpectra(m, x, { k: 4, exactUpTo: 0 });
      assert.deepEqual(exact.map((s) => s.name), ["input→hidden.0", "input→logits"], name);
      exact.forEach((s, i) => assertClose(sub[i]!.values, values(s.values), 1e-3, `${name} ${s.name}`));
    });
    m.dispose();
  }
});

test("jacobianSpectra: a linear network's logit Jacobian is its predictor β at every x; one-output models get two logits", () => {
  const shape = [1, 4, 4];
  const cases: [Record<string, unknown>, number][] = [[{ depth: 2, width: 12 }, 3], [{ depth: 1, width: 8, classes: 1 }, 2]];
  for (const [options, k] of cases) {
    const m = createModel("fc", { ...options, inputShape: shape, activation: "linear", seed: 5 });
    tidy(() => {
      const B = linearPredictor(m, shape).flatten(1).double(); // [classes, D]; [2, D] = [−∇f/2, ∇f/2] for one output
      const J = B.unsqueeze(0).expand(3, ...B.shape);
      const x = torch.rand([3, ...shape], { generator: new torch.Generator(5) });
      for (const exactUpTo of [undefined, 0]) {
        const logits = jacobianSpectra(m, x, { k, exactUpTo }).at(-1)!;
        assert.equal(logits.name, "input→logits");
        assertTopK(logits.values, J, k, 1e-4, `fc ${JSON.stringify(options)} exactUpTo ${exactUpTo}`);
      }
      // Preprocessing is part of the map: (x − 0.5) / 0.25 scales every singular value by 4.
      const scaled = jacobianSpectra(new AttackModel(m, { preprocessing: { mean: 0.5, std: 0.25 } }), x, { k }).at(-1)!;
      assertTopK(scaled.values, J.mul(4), k, 1e-4, "preprocessing");
    });
    m.dispose();
  }
});

test("jacobianSpectra: k is capped at the rank bound; bad options and inputs are refused", () => {
  const m = createModel("fc", { inputShape: [1, 2, 2], width: 3, classes: 2, seed: 6 });
  tidy(() => {
    const spectra = jacobianSpectra(m, torch.rand([2, 1, 2, 2]), { k: 10 });
    assert.deepEqual(spectra.map((s) => s.values.shape), [[2, 3], [2, 2]]);
    for (const bad of [{ k: 0 }, { k: 1.5 }, { k: 1, iterations: -1 }, { k: 1, exactUpTo: Number.NaN }]) {
      assert.throws(() => jacobianSpectra(m, torch.rand([1, 1, 2, 2]), bad), RangeError, JSON.stringify(bad));
    }
    assert.throws(() => jacobianSpectra(m, torch.rand([4]), { k: 1 }), RangeError);
  });
  m.dispose();
});
