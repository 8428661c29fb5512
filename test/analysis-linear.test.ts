import assert from "node:assert/strict";
import { test } from "node:test";
import { analysis, torch } from "../src/index.js";
import { AttackModel } from "../src/nn/attack-model.js";
import { createModel } from "../src/models/index.js";
import type { Module } from "../src/nn/index.js";
import type { Tensor } from "../src/torch/index.js";
import { assertClose, values } from "./helpers.js";

const { tidy } = torch;
const { linearPredictor, linearityGap } = analysis;

/** ∂z_c/∂x at x for every class, one plain autograd call per class (no identity trick). */
function inputGradients(m: Module, x: Tensor): Tensor {
  return tidy(() => {
    const xg = x.detach().requiresGrad_(true);
    const z = m.forward(xg);
    const grads = Array.from({ length: z.shape[1]! }, (_, c) => torch.autograd.grad(z.select(1, c).sum(), [xg], { retainGraph: true })[0]!);
    return torch.stack(grads.map((g) => g.squeeze(0)));
  });
}

const LINEAR: [string, Record<string, unknown>][] = [
  ["fc", { width: 20, inputShape: [3, 6, 6] }],
  ["fc", { width: 12, depth: 3, inputShape: [1, 5, 5], classes: 4 }],
  ["fwconv", { channels: 2, depth: 2, inputShape: [3, 8, 8] }],
  ["bwconv", { kernel: 3, channels: 4, inputShape: [3, 8, 8] }],
  ["bwconv", { kernel: 3, channels: 3, depth: 2, padding: "circular", inputShape: [3, 8, 8], initScale: 0.5 }],
  ["lc", { kernel: 3, channels: 2, inputShape: [3, 6, 6] }],
];

test("β of a linear network is its input gradient at any x, and z(x) = βx + z(0)", () => {
  for (const [name, options] of LINEAR) {
    const shape = options.inputShape as number[];
    const m = createModel(name, { ...options, activation: "linear", seed: 1 });
    const before = torch.memory().tensors;
    try {
      const beta = linearPredictor(m, shape);
      tidy(() => {
        assert.deepEqual(beta.shape, [(options.classes as number | undefined) ?? 10, ...shape], name);
        using g = new torch.Generator(2);
        const x = torch.rand([1, ...shape], { generator: g });
        assertClose(beta, values(inputGradients(m, x)), 1e-5, `${name}: β vs the input gradient at a random x`);
        const z = torch.noGrad(() => m.forward(x).sub(m.forward(torch.zerosLike(x))));
        assertClose(x.flatten(1).matmul(beta.flatten(1).T), values(z), 1e-4, `${name}: affine identity`);
      });
      assert.ok(linearityGap(m, shape) < 1e-5, `${name}: linearity gap ${linearityGap(m, shape)}`);
      beta.dispose();
      assert.equal(torch.memory().tensors, before, `${name}: tensors left alive`);
    } finally {
      m.dispose();
    }
  }
});

test("β of a one-hidden-layer linear fc is the product of its weights; no weight gradient is touched", () => tidy(() => {
  const m = createModel("fc", { width: 30, inputShape: [3, 4, 4], activation: "linear", seed: 3 });
  const sd = m.stateDict();
  const product = sd.get("linear.weight")!.matmul(sd.get("hidden.0.weight")!).detach();
  const beta = linearPredictor(m, [3, 4, 4]);
  assertClose(beta, values(product.reshape(10, 3, 4, 4)), 1e-5);
  // Eval mode and frozen parameters only while β is taken: mode and flags come back, .grad stays empty.
  assert.equal(m.training, true);
  for (const [k, p] of m.namedParameters()) {
    assert.equal(p.grad, undefined, `${k}.grad`);
    assert.equal(p.requiresGrad, true, `${k}.requiresGrad`);
  }
  // Through an AttackModel the preprocessing is part of the network: (x − 0.5)/0.25 multiplies β by 4.
  const pixel = linearPredictor(new AttackModel(m, { preprocessing: { mean: 0.5, std: 0.25 } }), [3, 4, 4]);
  assertClose(pixel, values(beta.mul(4)), 1e-5);
  m.dispose();
}));

test("the linearity gap is clearly positive for ReLU networks", () => {
  const relu: [string, { inputShape: number[] } & Record<string, unknown>][] = [
    ["fc", { width: 40, inputShape: [3, 6, 6] }],
    ["bwconv", { channels: 4, inputShape: [3, 8, 8] }],
  ];
  for (const [name, options] of relu) {
    const m = createModel(name, { ...options, activation: "relu", seed: 4 });
    try {
      const gap = linearityGap(m, options.inputShape);
      assert.ok(gap > 0.05 && Number.isFinite(gap), `${name}: gap ${gap}`);
      assert.equal(linearityGap(m, options.inputShape), gap, "seeded points: the same gap again");
    } finally {
      m.dispose();
    }
  }
  const m = createModel("fc", { width: 4, inputShape: [1, 2, 2] });
  assert.throws(() => linearPredictor(m, [1, 0, 2]), { name: "RangeError", message: /inputShape/ });
  assert.throws(() => linearityGap(m, [1, 2, 2], 0, 0), { name: "RangeError", message: /points/ });
  m.dispose();
});
