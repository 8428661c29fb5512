// Paper B's networks, keys as in its code (utils/classifiers/*.py).
import * as F from "../torch/functional.js";
import { tensor } from "../torch/ops.js";
import type { Generator } from "../torch/random.js";
import type { Tensor } from "../torch/tensor.js";
import { normal } from "../nn/init.js";
import { Conv2d, Linear } from "../nn/layers.js";
import { Module } from "../nn/module.js";
import { type InputNormalization, commonOptions, convOut, defineModel, normalizeInput, normalizeOption, reinit_, seedOptions } from "./common.js";
import { int, optionError, positive, shape } from "../util/schema.js";

/**
 * f(x) = Σ_k a_k · leaky_relu(⟨w_k, x⟩), slope 0.01, no biases; a_k = +1/√m for the first m/2
 * units and −1/√m for the rest, a fixed buffer ("const"), so only W is trained. One output per
 * input (a binary margin), shape [N].
 */
export class OneHiddenNet extends Module {
  readonly linear: Linear;
  constructor(inDim: number, width: number, generator: Generator, initStd?: number) {
    super();
    if (width % 2 !== 0) throw optionError("onehidden", "width", width, "an even integer ≥ 2");
    this.linear = this.child("linear", new Linear(inDim, width, { bias: false, generator }));
    if (initStd !== undefined) reinit_(this.linear, "weight", (s) => normal(s, initStd, generator));
    const a = Float32Array.from({ length: width }, (_, k) => (k < width / 2 ? 1 : -1) / Math.sqrt(width));
    this.buffer("const", tensor(a, { shape: [1, width] }));
  }
  forward(x: Tensor): Tensor {
    return F.linear(F.leakyRelu(this.linear.forward(x.flatten(1)), 0.01), this.get("const")).reshape(-1);
  }
}

export const onehidden = defineModel({
  summary: "paper B's one-hidden-layer leaky-ReLU network with fixed ±1/√m output weights (scalar output)",
  schema: {
    ...seedOptions(),
    inputShape: shape()([10000], "shape of one input; d is its product (B's default d = 10,000)"),
    width: int(2)(1000, "m, hidden units (even; B's default 1,000)"),
    initStd: positive.optional("draw W from N(0, initStd²) instead of PyTorch's U(±1/√d) (a small init for checks of paper B's theory, which assumes one)"),
  },
  build: (o, g) => new OneHiddenNet(o.inputShape.reduce((a, b) => a * b, 1), o.width, g, o.initStd),
});

/**
 * B's MNIST / Fashion-MNIST ConvNet: conv(16, s2) → conv(128) → x + ReLU(conv(128, p1)) →
 * conv(256) → x + ReLU(conv(256, p1)) → avg-pool 9 → Linear.
 */
export class ConvNet extends Module {
  readonly convs: Conv2d[];
  readonly linear: Linear;
  readonly normalize: InputNormalization | null;
  constructor(o: { inputShape: number[]; classes: number; normalize: InputNormalization | null }, generator: Generator) {
    super();
    this.normalize = o.normalize;
    const [c, h, w] = o.inputShape as [number, number, number];
    const specs: [number, number, number, number][] = [[c, 16, 2, 0], [16, 128, 1, 0], [128, 128, 1, 1], [128, 256, 1, 0], [256, 256, 1, 1]];
    const side = (s: number) => Math.floor(specs.reduce((n, [, , stride, padding]) => convOut(n, 3, stride, padding), s) / 9);
    if (side(h) < 1 || side(w) < 1) throw optionError("convnet-mnist", "inputShape", o.inputShape, "C, H, W with H, W ≥ 27");
    this.convs = specs.map(([i, out, stride, padding], k) =>
      this.child(`conv${k + 1}`, new Conv2d(i, out, 3, { stride, padding, generator })));
    this.linear = this.child("linear", new Linear(256 * side(h) * side(w), o.classes, { generator }));
  }
  forward(x: Tensor): Tensor {
    const [c1, c2, c3, c4, c5] = this.convs as [Conv2d, Conv2d, Conv2d, Conv2d, Conv2d];
    let h = F.relu(c2.forward(F.relu(c1.forward(normalizeInput(x, this.normalize)))));
    h = h.add(F.relu(c3.forward(h)));
    h = F.relu(c4.forward(h));
    h = h.add(F.relu(c5.forward(h)));
    return this.linear.forward(F.avgPool2d(h, 9).flatten(1));
  }
}

export const convnetMnist = defineModel({
  summary: "paper B's MNIST/Fashion-MNIST ConvNet (5 convs with two residual ReLU branches, avg-pool 9, Linear)",
  schema: { ...commonOptions([1, 28, 28]), ...normalizeOption() },
  build: (o, g) => new ConvNet(o, g),
});
