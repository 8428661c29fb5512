import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { torch } from "../src/index.js";
import { Linear, type Module } from "../src/nn/index.js";
import {
  createModel, describeModel, hiddenConvLayers, isExactlyLinear, lcSweepChannels, modelInfo, modelInfoFor, modelNames,
  OptionError, type HiddenStack,
} from "../src/models/index.js";
import { assertClose, f64, values } from "./helpers.js";

const { tidy, noGrad } = torch;
const F = torch.nn.functional;
const dir = mkdtempSync(join(tmpdir(), "advdyn-models-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Builds a model, runs fn inside one tidy scope, disposes the model, and checks that no tensor
 * outlived the test (every intermediate and every parameter released).
 */
function withModel(name: string, options: Record<string, unknown>, fn: (m: Module) => void): void {
  const before = torch.memory().tensors;
  const m = createModel(name, options);
  assert.equal(torch.memory().tensors - before, m.stateDict().size, `${name}: construction leaves only parameters and buffers`);
  try {
    tidy(() => fn(m));
  } finally {
    m.dispose();
    assert.equal(torch.memory().tensors, before, `${name}: tensors left alive`);
  }
}

const sd = (m: Module, key: string) => {
  const t = m.stateDict().get(key);
  assert.ok(t, `no state-dict key ${key}`);
  return t;
};

// ---- parameter counts from the layer formulas (what PyTorch reports for the same modules) ----
const lin = (i: number, o: number, bias = true) => i * o + (bias ? o : 0);
const conv = (i: number, o: number, k: number, bias = true) => i * o * k * k + (bias ? o : 0);
const bn = (c: number) => 2 * c;
const lcl = (i: number, o: number, k: number, out: number) => out * out * i * k * k * o + o * out * out;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function vggCount(w: number, classes = 10): number {
  const cfg = [1, 1, 2, 2, 4, 4, 4, 4, 8, 8, 8, 8, 8, 8, 8, 8].map((m) => m * w);
  return sum(cfg.map((o, i) => conv(i ? cfg[i - 1]! : 3, o, 3) + bn(o))) + lin(8 * w, 8 * w) * 2 + lin(8 * w, classes);
}
function resnet18Count(w: number, classes = 10): number {
  const block = (i: number, o: number) => conv(i, o, 3, false) + bn(o) + conv(o, o, 3, false) + bn(o) + (i !== o ? conv(i, o, 1, false) + bn(o) : 0);
  const stages = [1, 2, 4, 8].map((m, s) => block(s ? (m / 2) * w : w, m * w) + block(m * w, m * w));
  return conv(3, w, 3, false) + bn(w) + sum(stages) + lin(8 * w, classes);
}
function wrnCount(depth: number, k: number, classes = 10): number {
  const n = (depth - 4) / 6;
  const widths = [16, 16 * k, 32 * k, 64 * k];
  let total = conv(3, 16, 3);
  for (let s = 1; s <= 3; s++) for (let j = 0; j < n; j++) {
    const [i, o] = [j === 0 ? widths[s - 1]! : widths[s]!, widths[s]!];
    total += bn(i) + conv(i, o, 3) + bn(o) + conv(o, o, 3) + (i !== o || (s > 1 && j === 0) ? conv(i, o, 1) : 0);
  }
  return total + bn(64 * k) + lin(64 * k, classes);
}
function vitCount(c: number, side: number, p: number, d: number, depth: number, mlpDim: number, classes = 10): number {
  const tokens = (side / p) ** 2;
  const block = 2 * bn(d) + lin(d, 3 * d) + lin(d, d) + lin(d, mlpDim) + lin(mlpDim, d); // bn(d) = LayerNorm's 2d too
  return conv(c, d, p) + d + (tokens + 1) * d + depth * block + 2 * d + lin(d, classes);
}
function mixerCount(c: number, side: number, p: number, d: number, depth: number, t: number, ch: number, classes = 10): number {
  const tokens = (side / p) ** 2;
  return conv(c, d, p) + depth * (4 * d + lin(tokens, t) + lin(t, tokens) + lin(d, ch) + lin(ch, d)) + 2 * d + lin(d, classes);
}
const convnetCount = conv(1, 16, 3) + conv(16, 128, 3) + conv(128, 128, 3) + conv(128, 256, 3) + conv(256, 256, 3) + lin(256, 10);

interface Case {
  name: string;
  options: Record<string, unknown>;
  input: number[];
  output: number[];
  params: number;
}
const CASES: Case[] = [
  { name: "fc", options: {}, input: [2, 3, 32, 32], output: [2, 10], params: lin(3072, 2700) + lin(2700, 10) },
  { name: "fc", options: { depth: 3, activation: "linear" }, input: [2, 3, 32, 32], output: [2, 10], params: lin(3072, 2700) + 2 * lin(2700, 2700) + lin(2700, 10) },
  { name: "fc", options: { depth: 0, activation: "linear" }, input: [2, 3, 32, 32], output: [2, 10], params: lin(3072, 10) },
  { name: "fc", options: { inputShape: [1, 28, 28], width: 64, classes: 3, bias: false }, input: [2, 1, 28, 28], output: [2, 3], params: lin(784, 64, false) + lin(64, 3, false) },
  { name: "lc", options: {}, input: [2, 3, 32, 32], output: [2, 10], params: lcl(3, 32, 3, 30) + lin(32 * 30 * 30, 10) },
  { name: "lc", options: { padding: "zeros" }, input: [2, 3, 32, 32], output: [2, 10], params: lcl(3, 32, 3, 32) + lin(32 * 32 * 32, 10) },
  { name: "lc", options: { kernel: 7 }, input: [2, 3, 32, 32], output: [2, 10], params: lcl(3, 42, 7, 26) + lin(42 * 26 * 26, 10) },
  { name: "lc", options: { kernel: 15, inputShape: [3, 16, 16], channels: 5 }, input: [1, 3, 16, 16], output: [1, 10], params: lcl(3, 5, 15, 2) + lin(5 * 4, 10) },
  { name: "fwconv", options: {}, input: [2, 3, 32, 32], output: [2, 10], params: conv(3, 3, 32) + lin(3072, 10) },
  { name: "fwconv", options: { depth: 3 }, input: [2, 3, 32, 32], output: [2, 10], params: 3 * conv(3, 3, 32) + lin(3072, 10) },
  { name: "fwconv", options: { codeFaithful: true }, input: [2, 3, 32, 32], output: [2, 10], params: conv(3, 3, 32) + lin(3 * 33 * 33, 10) },
  { name: "fwconv", options: { inputShape: [1, 28, 28] }, input: [2, 1, 28, 28], output: [2, 10], params: conv(1, 3, 28) + lin(3 * 784, 10) },
  { name: "bwconv", options: {}, input: [2, 3, 32, 32], output: [2, 10], params: conv(3, 32, 3) + lin(32 * 30 * 30, 10) },
  { name: "bwconv", options: { depth: 3 }, input: [2, 3, 32, 32], output: [2, 10], params: conv(3, 32, 3) + 2 * conv(32, 32, 3) + lin(32 * 26 * 26, 10) },
  { name: "bwconv", options: { kernel: 11, channels: 8, padding: "circular" }, input: [2, 3, 32, 32], output: [2, 10], params: conv(3, 8, 11) + lin(8 * 1024, 10) },
  { name: "bwconv", options: { kernel: 32, channels: 3, depth: 3 }, input: [2, 3, 32, 32], output: [2, 10], params: 3 * conv(3, 3, 32) + lin(3072, 10) },
  { name: "shallow-resnet", options: {}, input: [2, 3, 32, 32], output: [2, 10], params: conv(3, 32, 3) + conv(32, 32, 3) + lin(32 * 32 * 32, 10) },
  { name: "vgg19", options: {}, input: [2, 3, 32, 32], output: [2, 10], params: vggCount(64) },
  { name: "vgg19", options: { width: 4, classes: 100 }, input: [2, 3, 32, 32], output: [2, 100], params: vggCount(4, 100) },
  // 28×28 (MNIST): ceil-mode pools reach 1×1, so the classifier has the 32×32 model's size.
  { name: "vgg19", options: { width: 4, inputShape: [1, 28, 28] }, input: [2, 1, 28, 28], output: [2, 10], params: vggCount(4) - conv(3, 4, 3) + conv(1, 4, 3) },
  { name: "resnet18", options: {}, input: [2, 3, 32, 32], output: [2, 10], params: 11_173_962 },
  { name: "resnet18", options: { width: 4, inputShape: [1, 28, 28] }, input: [2, 1, 28, 28], output: [2, 10], params: resnet18Count(4) - conv(3, 4, 3, false) + conv(1, 4, 3, false) },
  { name: "vit", options: { dim: 16, depth: 2, heads: 4, mlpDim: 32 }, input: [2, 3, 32, 32], output: [2, 10], params: vitCount(3, 32, 4, 16, 2, 32) },
  { name: "mlp-mixer", options: { dim: 16, depth: 2, tokenMlpDim: 8, channelMlpDim: 32, patch: 8 }, input: [2, 3, 32, 32], output: [2, 10], params: mixerCount(3, 32, 8, 16, 2, 8, 32) },
  { name: "onehidden", options: { inputShape: [50], width: 8 }, input: [3, 50], output: [3], params: 8 * 50 },
  { name: "convnet-mnist", options: {}, input: [2, 1, 28, 28], output: [2, 10], params: convnetCount },
  { name: "wrn-28-10", options: { depth: 10, widenFactor: 1 }, input: [2, 3, 32, 32], output: [2, 10], params: wrnCount(10, 1) },
];

test("every model: output shape, PyTorch's parameter count, and a gradient for every parameter", () => {
  assert.deepEqual(new Set(CASES.map((c) => c.name)), new Set(modelNames()), "a case for every registered model");
  const g = new torch.Generator(1);
  for (const c of CASES) {
    withModel(c.name, c.options, (m) => {
      const label = `${c.name} ${JSON.stringify(c.options)}`;
      assert.equal(m.parameterCount(), c.params, `${label}: parameter count`);
      const x = torch.rand(c.input, { generator: g });
      const out = m.forward(x);
      assert.deepEqual(out.shape, c.output, `${label}: output shape`);
      const params = m.parameters();
      const grads = torch.autograd.grad(out.square().sum(), params);
      grads.forEach((gr, i) => assert.ok(gr && torch.all(torch.isfinite(gr)).item(), `${label}: gradient of ${m.namedParameters()[i]![0]}`));
    });
  }
  g.dispose();
});

test("full-size parameter counts: WRN-28-10 (36.5M), ViT and Mixer at the A-5 sizes, onehidden at B's defaults", () => {
  const expect: [string, Record<string, unknown>, number][] = [
    ["wrn-28-10", {}, wrnCount(28, 10)],
    ["vit", {}, vitCount(3, 32, 4, 256, 6, 512)],
    ["mlp-mixer", {}, mixerCount(3, 32, 4, 256, 8, 128, 512)],
    ["onehidden", {}, 10_000 * 1000],
    ["convnet-mnist", { classes: 2 }, convnetCount - lin(256, 10) + lin(256, 2)],
  ];
  for (const [name, options, n] of expect) withModel(name, options, (m) => assert.equal(m.parameterCount(), n, name));
  assert.equal(wrnCount(28, 10), 36_489_290);
});

test("state-dict keys and shapes follow the PyTorch definitions (CIFAR ResNet-18, vgg19_bn, attention, WRN)", () => {
  withModel("resnet18", { width: 4 }, (m) => {
    const state = m.stateDict();
    // kuangliu/pytorch-cifar ResNet18: 20 convs, 20 BNs (5 entries each), linear weight and bias.
    assert.equal(state.size, 122);
    const shapes: [string, number[]][] = [
      ["conv1.weight", [4, 3, 3, 3]], ["bn1.weight", [4]], ["bn1.running_mean", [4]], ["bn1.num_batches_tracked", []],
      ["layer1.0.conv1.weight", [4, 4, 3, 3]], ["layer1.0.bn1.running_mean", [4]], ["layer1.1.bn2.running_var", [4]],
      ["layer2.0.conv1.weight", [8, 4, 3, 3]], ["layer2.0.shortcut.0.weight", [8, 4, 1, 1]], ["layer2.0.shortcut.1.bias", [8]],
      ["layer4.1.conv2.weight", [32, 32, 3, 3]], ["layer4.0.shortcut.1.running_var", [32]], ["linear.weight", [10, 32]], ["linear.bias", [10]],
    ];
    for (const [k, s] of shapes) assert.deepEqual(sd(m, k).shape, s, k);
    assert.ok(!state.has("layer1.0.shortcut.0.weight") && !state.has("conv1.bias"), "identity shortcuts and bias-free convs");
    assert.equal(sd(m, "bn1.num_batches_tracked").dtype, "int64");
  });
  withModel("vgg19", { width: 4 }, (m) => {
    const shapes: [string, number[]][] = [
      ["features.0.weight", [4, 3, 3, 3]], ["features.0.bias", [4]], ["features.1.running_mean", [4]], ["features.3.weight", [4, 4, 3, 3]],
      ["features.7.weight", [8, 4, 3, 3]], ["features.49.weight", [32, 32, 3, 3]], ["features.50.running_var", [32]],
      ["classifier.1.weight", [32, 32]], ["classifier.4.weight", [32, 32]], ["classifier.6.weight", [10, 32]], ["classifier.6.bias", [10]],
    ];
    for (const [k, s] of shapes) assert.deepEqual(sd(m, k).shape, s, k);
    assert.equal([...m.stateDict().keys()].filter((k) => k.startsWith("features.52")).length, 0, "the last max-pool has no state");
    // The code's conv init: zero biases and N(0, 2/(9·C_out)) weights.
    assert.equal(sd(m, "features.0.bias").abs().max().item(), 0);
    const w = sd(m, "features.49.weight");
    assert.ok(Math.abs(w.std().item() / Math.sqrt(2 / (9 * 32)) - 1) < 0.1, "conv weight std");
  });
  withModel("vit", { dim: 8, depth: 1, heads: 2, mlpDim: 8 }, (m) => {
    // nn.MultiheadAttention's layout and init: packed q/k/v projection, zero biases.
    assert.deepEqual(sd(m, "blocks.0.attn.in_proj_weight").shape, [24, 8]);
    for (const k of ["blocks.0.attn.in_proj_bias", "blocks.0.attn.out_proj.bias"]) assert.equal(sd(m, k).abs().max().item(), 0, k);
    for (const k of ["patch_embed.proj.weight", "cls_token", "pos_embed", "blocks.0.norm1.weight", "blocks.0.mlp.2.weight", "norm.bias", "head.weight"]) sd(m, k);
  });
  withModel("wrn-28-10", { depth: 10, widenFactor: 2 }, (m) => {
    for (const k of ["conv1.bias", "layer1.0.bn1.weight", "layer1.0.conv1.bias", "layer1.0.shortcut.weight", "layer3.0.shortcut.bias", "bn1.running_mean", "linear.weight"]) sd(m, k);
    assert.deepEqual(sd(m, "linear.weight").shape, [10, 128]);
  });
});

/** f(a·x + b·y) − f(0) against a(f(x) − f(0)) + b(f(y) − f(0)); returns the error relative to the terms' size. */
function affineDefect(m: Module, shape: number[], seed: number): number {
  const g = new torch.Generator(seed);
  const x = torch.rand(shape, { generator: g });
  const y = torch.rand(shape, { generator: g });
  g.dispose();
  const [a, b] = [2.5, -3];
  const f0 = m.forward(torch.zeros(shape));
  const lhs = m.forward(x.mul(a).add(y.mul(b))).sub(f0);
  const rhs = m.forward(x).sub(f0).mul(a).add(m.forward(y).sub(f0).mul(b));
  return lhs.sub(rhs).abs().max().item() / Math.max(lhs.abs().max().item(), rhs.abs().max().item());
}

test("linear variants are exactly affine; ReLU variants and the big nets are not", () => {
  const linear: [string, Record<string, unknown>, number[]][] = [
    ["fc", { width: 64, depth: 3 }, [3, 3, 32, 32]],
    ["lc", {}, [3, 3, 32, 32]],
    ["lc", { padding: "zeros", kernel: 5, channels: 4 }, [3, 3, 32, 32]],
    ["fwconv", { depth: 3 }, [3, 3, 32, 32]],
    ["fwconv", { codeFaithful: true }, [3, 3, 32, 32]],
    ["bwconv", { depth: 3, channels: 8 }, [3, 3, 32, 32]],
    ["bwconv", { kernel: 5, padding: "circular", depth: 3, channels: 3 }, [3, 3, 32, 32]],
  ];
  for (const [name, o, shape] of linear) {
    const options = { ...o, activation: "linear" };
    assert.ok(isExactlyLinear(name, options), name);
    withModel(name, options, (m) => {
      assert.ok(isExactlyLinear(m));
      // float32 parameters: the defect is rounding, ~1e-7 relative.
      const d = affineDefect(m, shape, 7);
      assert.ok(d < 2e-5, `${name} ${JSON.stringify(o)}: relative defect ${d}`);
    });
    withModel(name, { ...o, activation: "relu" }, (m) => {
      assert.ok(!isExactlyLinear(m));
      const d = affineDefect(m, shape, 7);
      assert.ok(d > 1e-3, `${name} relu: the check must see the nonlinearity (defect ${d})`);
    });
  }
  for (const name of ["shallow-resnet", "vgg19", "resnet18", "vit", "mlp-mixer", "onehidden", "convnet-mnist", "wrn-28-10"]) {
    assert.ok(!isExactlyLinear(name), name);
  }
  const plain = new Linear(2, 2);
  assert.ok(!isExactlyLinear(plain), "a module not from the zoo");
  plain.dispose();
});

/** Cross-correlation on the torus computed directly: wrap-pad by H−1 (right, bottom), then a valid conv. */
const torusConv = (x: torch.Tensor, w: torch.Tensor, b?: torch.Tensor) => {
  const [h, wd] = [x.shape[2]!, x.shape[3]!];
  return F.conv2d(F.pad(x, [0, wd - 1, 0, h - 1], "circular"), w, b);
};

test("fwconv is the circular convolution on the torus (FFT path against a direct float64 sum)", () => {
  for (const activation of ["linear", "relu"]) {
    withModel("fwconv", { depth: 3, activation, seed: 3 }, (m) => {
      const x = f64([2, 3, 32, 32], 31, 0, 1);
      const p = (k: string) => sd(m, k).detach().double();
      let h = x;
      const want: torch.Tensor[] = [];
      for (let l = 0; l < 3; l++) {
        const z = torusConv(h, p(`hidden.${l}.weight`), p(`hidden.${l}.bias`));
        want.push(z);
        h = activation === "relu" ? F.relu(z) : z;
      }
      const got = (m as HiddenStack).preActivations(x.float());
      got.forEach((z, l) => assertClose(z, values(want[l]!), 1e-5, `${activation} layer ${l}`));
      assertClose(m.forward(x.float()), values(F.linear(h.flatten(1), p("linear.weight"), p("linear.bias"))), 1e-5, `${activation} logits`);
    });
  }
  // The authors' 33×33 variant: circular pad 16 on every side, then a direct 32×32 conv.
  withModel("fwconv", { codeFaithful: true }, (m) => {
    const x = f64([2, 3, 32, 32], 32, 0, 1);
    const z = F.conv2d(F.pad(x, [16, 16, 16, 16], "circular"), sd(m, "hidden.0.weight").detach().double(), sd(m, "hidden.0.bias").detach().double());
    assert.deepEqual(z.shape, [2, 3, 33, 33]);
    assertClose((m as HiddenStack).preActivations(x.float())[0]!, values(z), 1e-5);
  });
  // A bounded kernel with circular padding is the torus convolution with that kernel embedded in a
  // zero H×W kernel, centred: tap (a, b) sits at offset (a − r, b − r) mod H.
  withModel("bwconv", { kernel: 5, padding: "circular", channels: 4, inputShape: [3, 16, 16] }, (m) => {
    const x = f64([2, 3, 16, 16], 33, 0, 1);
    const w = sd(m, "hidden.0.weight").detach().double();
    const big = torch.roll(F.pad(w, [0, 11, 0, 11]), [-2, -2], [2, 3]);
    const want = torusConv(x, big, sd(m, "hidden.0.bias").detach().double());
    assertClose((m as HiddenStack).preActivations(x.float())[0]!, values(want), 1e-5);
  });
});

test("locally connected: one kernel per position (direct float64 sum), unshared", () => {
  withModel("lc", { inputShape: [3, 6, 6], channels: 2, kernel: 3, activation: "linear" }, (m) => {
    const x = f64([2, 3, 6, 6], 41, 0, 1);
    const w = values(sd(m, "hidden.0.weight")); // [L = 16, C·k·k = 27, O = 2]
    const b = values(sd(m, "hidden.0.bias")); // [O, 4, 4]
    const xv = values(x);
    const want: number[] = [];
    for (let n = 0; n < 2; n++) for (let o = 0; o < 2; o++) for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
      let s = b[(o * 4 + i) * 4 + j]!;
      for (let c = 0; c < 3; c++) for (let a = 0; a < 3; a++) for (let bb = 0; bb < 3; bb++) {
        s += w[((i * 4 + j) * 27 + (c * 9 + a * 3 + bb)) * 2 + o]! * xv[((n * 3 + c) * 6 + i + a) * 6 + j + bb]!;
      }
      want.push(s);
    }
    const stack = m as HiddenStack;
    const before = stack.preActivations(x.float())[0]!;
    assertClose(before, want, 1e-5);
    // Change the kernel of position (1, 2) only: only that position's outputs move.
    noGrad(() => sd(m, "hidden.0.weight").narrow(0, 1 * 4 + 2, 1).add_(0.5));
    const changed = stack.preActivations(x.float())[0]!.sub(before).abs().gt(1e-6);
    const moved = values(changed);
    for (let n = 0; n < 2; n++) for (let o = 0; o < 2; o++) for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
      assert.equal(moved[((n * 2 + o) * 4 + i) * 4 + j], i === 1 && j === 2 ? 1 : 0, `output (${n}, ${o}, ${i}, ${j})`);
    }
  });
  assert.deepEqual([3, 7, 9, 15].map((k) => lcSweepChannels(32, k)), [32, 42, 50, 88]);
  assert.equal(modelInfoFor("lc", { kernel: 9 }).options.channels, undefined, "derived, not stored as an option");
});

test("init scale α: hidden layers × α, readout weight ÷ α^L, readout bias kept; β of linear nets unchanged", () => {
  const cases: [string, Record<string, unknown>, string[], number][] = [
    ["bwconv", { depth: 3, channels: 4, inputShape: [3, 12, 12] }, ["hidden.0", "hidden.1", "hidden.2"], 3],
    ["fwconv", { inputShape: [3, 8, 8] }, ["hidden.0"], 1],
    ["lc", { inputShape: [3, 8, 8], channels: 4 }, ["hidden.0"], 1],
    ["fc", { width: 16 }, ["hidden.0"], 1],
  ];
  for (const [name, o, hidden, L] of cases) {
    assert.equal(hiddenConvLayers(name, o), L, name);
    const ones = createModel(name, { ...o, seed: 5, activation: "linear" });
    const tens = createModel(name, { ...o, seed: 5, activation: "linear", initScale: 10 });
    const g = new torch.Generator(2);
    tidy(() => {
      for (const layer of hidden) {
        for (const p of ["weight", "bias"]) assertClose(sd(tens, `${layer}.${p}`), values(sd(ones, `${layer}.${p}`).mul(10)), 1e-6, `${name} ${layer}.${p}`);
      }
      assertClose(sd(tens, "linear.weight"), values(sd(ones, "linear.weight").div(10 ** L)), 1e-6, `${name} readout weight`);
      assert.ok(torch.equal(sd(tens, "linear.bias"), sd(ones, "linear.bias")), `${name} readout bias`);
      // The linear part of the end-to-end map (β) is the same; only the parameterisation changed.
      const x = torch.rand([2, ...(modelInfo(ones)!.options.inputShape as number[])], { generator: g });
      const z = torch.zeros(x.shape);
      const beta = (m: Module) => m.forward(x).sub(m.forward(z));
      assertClose(beta(tens), values(beta(ones)), 1e-4, `${name} β`);
    });
    for (const d of [ones, tens, g]) d.dispose();
  }
  assert.equal(hiddenConvLayers("resnet18"), 0);
  assert.throws(() => createModel("resnet18", { initScale: 10 } as never), /unknown option 'initScale'/);
});

test("a seed fixes the state dict; a generator can be shared; different seeds differ", () => {
  const same = (a: Module, b: Module) => [...a.stateDict()].every(([k, t]) => torch.equal(t, b.stateDict().get(k)!));
  for (const [name, o] of [["bwconv", { depth: 3, channels: 4 }], ["vit", { dim: 8, depth: 1, heads: 2, mlpDim: 8 }], ["resnet18", { width: 2 }]] as const) {
    const a = createModel(name, { ...o, seed: 11 });
    const b = createModel(name, { ...o, seed: 11 });
    const c = createModel(name, { ...o, seed: 12 });
    const g = new torch.Generator(11);
    const d = createModel(name, { ...o, generator: g });
    const e = createModel(name, { ...o, generator: g });
    assert.ok(same(a, b), `${name}: same seed`);
    assert.ok(!same(a, c), `${name}: another seed`);
    assert.ok(same(a, d), `${name}: a fresh Generator(seed) is the seed`);
    assert.ok(!same(d, e), `${name}: a shared generator moves on`);
    assert.equal(modelInfo(d)!.options.generator, undefined, "the generator is not part of the recorded options");
    for (const m of [a, b, c, d, e]) m.dispose();
    g.dispose();
  }
});

test("onehidden: Σ a_k leaky_relu(⟨w_k, x⟩) with a fixed ±1/√m readout buffer, only W trained", () => {
  withModel("onehidden", { inputShape: [5], width: 4, seed: 2 }, (m) => {
    assert.deepEqual(m.namedParameters().map(([k, t]) => [k, t.shape]), [["linear.weight", [4, 5]]]);
    assert.deepEqual(m.namedBuffers().map(([k, t]) => [k, t.shape]), [["const", [1, 4]]]);
    assertClose(sd(m, "const"), [0.5, 0.5, -0.5, -0.5], 1e-7);
    const x = f64([3, 5], 51);
    const w = values(sd(m, "linear.weight"));
    const want = [0, 1, 2].map((n) => [0, 1, 2, 3].reduce((s, k) => {
      const z = [0, 1, 2, 3, 4].reduce((t, i) => t + w[k * 5 + i]! * values(x)[n * 5 + i]!, 0);
      return s + (k < 2 ? 0.5 : -0.5) * (z > 0 ? z : 0.01 * z);
    }, 0));
    assertClose(m.forward(x.float()), want, 1e-5);
  });
  withModel("onehidden", { inputShape: [1, 10, 10], width: 6 }, (m) => {
    assertClose(sd(m, "const"), [1, 1, 1, -1, -1, -1].map((v) => v / Math.sqrt(6)), 1e-7);
    assert.deepEqual(sd(m, "linear.weight").shape, [6, 100], "d is the product of inputShape");
    assert.ok(sd(m, "linear.weight").abs().max().item() <= 0.1, "PyTorch's U(±1/√d)");
  });
  withModel("onehidden", { inputShape: [400], width: 200, initStd: 1e-3 }, (m) => {
    assert.ok(Math.abs(sd(m, "linear.weight").std().item() / 1e-3 - 1) < 0.05, "B-1's small Gaussian init");
  });
  assert.throws(() => createModel("onehidden", { width: 5 }), /option 'width' = 5 is not allowed; allowed: an even integer/);
});

test("save() then load() into a model with another seed gives identical outputs (parameters and BN buffers)", () => {
  const cases: [string, Record<string, unknown>, number[]][] = [
    ["resnet18", { width: 4 }, [2, 3, 32, 32]],
    ["fwconv", { depth: 3 }, [2, 3, 32, 32]],
    ["lc", { inputShape: [3, 8, 8] }, [2, 3, 8, 8]],
    ["onehidden", { inputShape: [20], width: 6 }, [2, 20]],
    ["vit", { dim: 8, depth: 1, heads: 2, mlpDim: 8 }, [2, 3, 32, 32]],
  ];
  for (const [name, o, shape] of cases) {
    const a = createModel(name, { ...o, seed: 1 });
    const b = createModel(name, { ...o, seed: 2 });
    const g = new torch.Generator(4);
    tidy(() => {
      const x = torch.rand(shape, { generator: g });
      a.forward(x); // training mode: BatchNorm running statistics move away from their init
      a.eval();
      b.eval();
      const path = join(dir, `${name}.safetensors`);
      a.save(path, { model: name });
      assert.ok(!torch.equal(a.forward(x), b.forward(x)), `${name}: differs before loading`);
      assert.deepEqual(b.load(path), { model: name });
      assert.ok(torch.equal(a.forward(x), b.forward(x)), `${name}: identical after loading`);
    });
    for (const d of [a, b, g]) d.dispose();
  }
});

test("bad options are errors that name the option and the allowed values", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["bwconv", { kernel: 4 }, /bwconv: option 'kernel' = 4 is not allowed; allowed: an odd integer below the image side 32, or 32/],
    ["bwconv", { kernel: 3, depth: 16 }, /option 'depth' = 16 is not allowed; allowed: at most 15/],
    ["bwconv", { activation: "tanh" }, /option 'activation' = "tanh" is not allowed; allowed: "linear" \| "relu"/],
    ["bwconv", { padding: "same" }, /option 'padding' = "same" .* allowed: "valid" \| "circular"/],
    ["fc", { depth: -1 }, /option 'depth' = -1 .* an integer ≥ 0/],
    ["fc", { initScale: -1 }, /option 'initScale' = -1 .* a finite number > 0/],
    ["fc", { widht: 10 }, /fc: unknown option 'widht'; options: .*width/],
    ["lc", { kernel: 4, padding: "zeros" }, /option 'kernel' = 4 .* an odd integer/],
    ["lc", { inputShape: [3, 32, 30] }, /option 'inputShape' = \[3,32,30\] .* H = W/],
    ["fwconv", { codeFaithful: true, depth: 3 }, /option 'codeFaithful' = true .* depth > 1/],
    ["vgg19", { dropout: 1 }, /option 'dropout' = 1 .* \[0, 1\)/],
    ["wrn-28-10", { depth: 27 }, /option 'depth' = 27 .* 6n \+ 4/],
    ["vit", { heads: 5 }, /option 'heads' = 5 .* a divisor of dim = 256/],
    ["mlp-mixer", { patch: 5 }, /option 'patch' = 5 .* a divisor of both H = 32 and W = 32/],
    ["resnet18", { inputShape: [3, 32] }, /option 'inputShape' = \[3,32\] .* an array of 3 positive integers/],
    ["convnet-mnist", { classes: 1.5 }, /option 'classes' = 1.5/],
    ["fc", { generator: 3 }, /option 'generator' = 3 .* a torch.Generator/],
    ["nope", {}, /unknown model 'nope'; models: fc, lc, fwconv, bwconv/],
  ];
  // Literal names get typed options: a mistyped value does not compile.
  // @ts-expect-error kernel is a number
  assert.throws(() => createModel("bwconv", { kernel: "3" }), /option 'kernel' = "3"/);
  const before = torch.memory().tensors;
  for (const [name, o, re] of cases) {
    assert.throws(() => createModel(name, o), (e: Error) => e instanceof OptionError && re.test(e.message), `${name} ${JSON.stringify(o)}`);
  }
  assert.equal(torch.memory().tensors, before, "a rejected model allocates nothing");
  const { summary, options } = describeModel("bwconv");
  assert.match(summary, /bounded-width/);
  assert.equal(options.kernel!.default, 3);
  assert.equal(modelInfoFor("fc").options.width, 2700);
});
