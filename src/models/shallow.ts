// Paper A's small networks (v1 App. B.1, Table 3, and its code): FC, locally connected, full-width and bounded-width
// convolutions, and the shallow ResNet. Defaults are the paper's; where it is silent, its code's (docs/methods.md).
import * as F from "../torch/functional.js";
import type { Generator } from "../torch/random.js";
import type { Tensor } from "../torch/tensor.js";
import { CircularConv2d, Conv2d, Linear, LocallyConnected2d } from "../nn/layers.js";
import { Module, Sequential } from "../nn/module.js";
import { commonOptions, convOut, defineModel, scale_, squareSide } from "./common.js";
import { bool, int, oneOf, optionError, positive } from "../util/schema.js";

export type Activation = "linear" | "relu";

const stackOptions = () => ({
  ...commonOptions([3, 32, 32]),
  activation: oneOf(["linear", "relu"])("relu", "nonlinearity after every hidden layer; 'linear' makes the whole network affine"),
  initScale: positive(1, "α (paper A, v1 Fig. 11): every hidden layer's weight and bias × α, the readout weight ÷ α^(hidden layers)"),
  bias: bool(true, "biases in every layer (paper A's code has them; false for theory checks)"),
});

interface StackConfig {
  classes: number;
  activation: Activation;
  initScale: number;
  bias: boolean;
}

/**
 * Hidden layers, each followed by the activation, then a Linear readout of the flattened last map.
 * α multiplies every hidden layer (as the code's Net3 does) so that, for the linear variants, the
 * product of the weights, hence β, is unchanged at initialisation; only the parameterisation moves.
 */
export class HiddenStack extends Module {
  readonly hidden: Sequential;
  readonly linear: Linear;
  readonly activation: Activation;
  constructor(layers: Module[], features: number, c: StackConfig, generator: Generator, private readonly flattenInput = false) {
    super();
    this.activation = c.activation;
    this.hidden = this.child("hidden", new Sequential(...layers));
    this.linear = this.child("linear", new Linear(features, c.classes, { generator, bias: c.bias }));
    if (c.initScale !== 1) {
      for (const layer of layers) scale_(layer, c.initScale);
      scale_(this.linear, c.initScale ** -layers.length, ["weight"]);
    }
  }

  private act(z: Tensor): Tensor {
    return this.activation === "relu" ? F.relu(z) : z;
  }

  /** Each hidden layer's output before the activation (the ReLU states breakpoint analysis reads). */
  preActivations(x: Tensor): Tensor[] {
    const zs: Tensor[] = [];
    let h = this.flattenInput ? x.flatten(1) : x;
    for (const layer of this.hidden.layers) {
      if (zs.length) h = this.act(zs[zs.length - 1]!);
      zs.push(layer.forward(h));
    }
    return zs;
  }

  forward(x: Tensor): Tensor {
    const zs = this.preActivations(x);
    // No hidden layer (fc with depth 0): the readout alone, a linear classifier of the pixels.
    return this.linear.forward(zs.length ? this.act(zs[zs.length - 1]!).flatten(1) : x.flatten(1));
  }
}

const isLinear = (o: { activation: Activation }) => o.activation === "linear";

export const fc = defineModel({
  summary: "fully connected: Flatten → depth × Linear(width) [+ReLU] → Linear(classes)",
  schema: {
    ...stackOptions(),
    width: int(1)(2700, "hidden units per layer (2700 = 3·30·30, paper A's v1 Table 3)"),
    depth: int(0)(1, "hidden layers (the paper: 1 or 3; 0: a single Linear(C·H·W, classes), the hidden-shortcut experiment's linear model)"),
  },
  build(o, g) {
    const d = o.inputShape.reduce((a, b) => a * b, 1);
    const layers = Array.from({ length: o.depth }, (_, i) => new Linear(i === 0 ? d : o.width, o.width, { generator: g, bias: o.bias }));
    return new HiddenStack(layers, o.depth === 0 ? d : o.width, o, g, true);
  },
  isLinear,
  hiddenConvLayers: (o) => o.depth,
});

/** LC channel count of the kernel sweep: the hidden size of 32 channels of 3×3 valid conv, kept (paper A's code). */
export const lcSweepChannels = (side: number, kernel: number): number =>
  Math.floor((32 * (side - 2) ** 2) / (side - kernel + 1) ** 2);

export const lc = defineModel({
  summary: "locally connected (unshared k×k kernels) → [ReLU] → Linear(classes)",
  schema: {
    ...stackOptions(),
    kernel: int(1)(3, "kernel size (the sweep: 7, 9, 15)"),
    channels: int(1).optional("output channels; default 32·(H−2)²/(H−k+1)² rounded down (32 at k = 3; 42, 50, 88 at k = 7, 9, 15)"),
    padding: oneOf(["valid", "zeros"])("valid", "'valid' (Ryan's code, 30×30 at k = 3) or 'zeros' (k−1)/2 per side (model_robust.py, 32×32)"),
  },
  build(o, g) {
    const side = squareSide("lc", o.inputShape);
    const zeros = o.padding === "zeros";
    if (o.kernel > side || (zeros && o.kernel % 2 === 0)) {
      throw optionError("lc", "kernel", o.kernel, `${zeros ? "an odd integer (padding 'zeros')" : "an integer"} in 1…${side}, the image side`);
    }
    const channels = o.channels ?? lcSweepChannels(side, o.kernel);
    const layer = new LocallyConnected2d(o.inputShape[0]!, channels, side, o.kernel,
      { padding: zeros ? (o.kernel - 1) / 2 : 0, generator: g, bias: o.bias });
    return new HiddenStack([layer], channels * layer.outSize ** 2, o, g);
  },
  isLinear,
  hiddenConvLayers: () => 1,
});

interface ConvStackOptions extends StackConfig {
  inputShape: number[];
  channels: number;
  kernel: number;
  depth: number;
  padding: "valid" | "circular";
}

/**
 * depth conv layers of `channels` maps. A kernel as wide as the image is the torus convolution
 * (FFT); narrower odd kernels are bounded-width, with valid or circular padding.
 */
function convStack(model: string, o: ConvStackOptions, g: Generator): HiddenStack {
  const side = squareSide(model, o.inputShape);
  const k = o.kernel;
  if (!(k === side || (k % 2 === 1 && k < side))) {
    throw optionError(model, "kernel", k, `an odd integer below the image side ${side}, or ${side} (full width: convolution on the torus)`);
  }
  const shrink = k < side && o.padding === "valid";
  if (shrink && side - o.depth * (k - 1) < 1) {
    throw optionError(model, "depth", o.depth, `at most ${Math.floor((side - 1) / (k - 1))} for kernel ${k} with valid padding on ${side}×${side}`);
  }
  const layers: Module[] = [];
  let size = side;
  for (let i = 0; i < o.depth; i++) {
    const inC = i === 0 ? o.inputShape[0]! : o.channels;
    const init = { generator: g, bias: o.bias };
    if (k === side) {
      layers.push(new CircularConv2d(inC, o.channels, side, init));
    } else {
      layers.push(new Conv2d(inC, o.channels, k, { ...init, padding: shrink ? 0 : (k - 1) / 2, paddingMode: "circular" }));
      if (shrink) size = convOut(size, k);
    }
  }
  return new HiddenStack(layers, o.channels * size * size, o, g);
}

export const bwconv = defineModel({
  summary: "bounded-width convolution: depth × Conv2d(k) [+ReLU] → Linear(classes); k = image side is the torus convolution",
  schema: {
    ...stackOptions(),
    kernel: int(1)(3, "kernel size: odd and below the image side, or the side itself (full width, FFT torus convolution)"),
    channels: int(1)(32, "channels of every hidden layer (the paper: 3, 8, 32)"),
    depth: int(1)(1, "hidden conv layers (the paper: 1 or 3)"),
    padding: oneOf(["valid", "circular"])("valid", "'valid' (shrinks by k−1 per layer) or circular (k−1)/2 per side (keeps the size)"),
  },
  build: (o, g) => convStack("bwconv", o, g),
  isLinear,
  hiddenConvLayers: (o) => o.depth,
});

export const fwconv = defineModel({
  summary: "full-width circular convolution: depth × torus conv (FFT) [+ReLU] → Linear(C·H·W, classes)",
  schema: {
    ...stackOptions(),
    channels: int(1)(3, "channels of every hidden layer"),
    depth: int(1)(1, "hidden conv layers (the paper: 1 or 3)"),
    codeFaithful: bool(false, "paper A's code's variant, circular pad ⌈(H−1)/2⌉ then a direct H×H conv, a (H+1)×(H+1) map at H = 32 (depth 1 only)"),
  },
  build(o, g) {
    const side = squareSide("fwconv", o.inputShape);
    if (!o.codeFaithful) return convStack("fwconv", { ...o, kernel: side, padding: "circular" }, g);
    if (o.depth !== 1) throw optionError("fwconv", "codeFaithful", true, "false when depth > 1 (the code-faithful variant has one hidden layer)");
    const pad = Math.ceil((side - 1) / 2);
    const conv = new Conv2d(o.inputShape[0]!, o.channels, side, { padding: pad, paddingMode: "circular", generator: g, bias: o.bias });
    return new HiddenStack([conv], o.channels * convOut(side, side, 1, pad) ** 2, o, g);
  },
  isLinear,
  hiddenConvLayers: (o) => o.depth,
});

/** h1 = conv1(x); h2 = ReLU(conv2(h1)); logits = Linear(flatten(h1 + h2)) (the code's `convresnet`). */
export class ShallowResNet extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly linear: Linear;
  constructor(inputShape: readonly number[], channels: number, classes: number, generator: Generator) {
    super();
    const [c, h, w] = inputShape as [number, number, number];
    this.conv1 = this.child("conv1", new Conv2d(c, channels, 3, { padding: 1, generator }));
    this.conv2 = this.child("conv2", new Conv2d(channels, channels, 3, { padding: 1, generator }));
    // The code declares Linear(30·30·32) but feeds 32·32·32 features; this is the size that runs.
    this.linear = this.child("linear", new Linear(channels * h * w, classes, { generator }));
  }
  forward(x: Tensor): Tensor {
    const h1 = this.conv1.forward(x);
    return this.linear.forward(h1.add(F.relu(this.conv2.forward(h1))).flatten(1));
  }
}

export const shallowResnet = defineModel({
  summary: "shallow ResNet: h1 = Conv3×3(x), h2 = ReLU(Conv3×3(h1)), Linear(flatten(h1 + h2))",
  schema: {
    ...commonOptions([3, 32, 32]),
    channels: int(1)(32, "channels of both conv layers"),
  },
  build: (o, g) => new ShallowResNet(o.inputShape, o.channels, o.classes, g),
});
