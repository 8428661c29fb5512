// Residual networks with the state-dict keys of the PyTorch code the papers used:
// CIFAR ResNet-18 (kuangliu/pytorch-cifar, paper A) and the pre-activation WideResNet (meliketoy
// wide-resnet.pytorch as rearranged by paper B's code).
import * as F from "../torch/functional.js";
import type { Generator } from "../torch/random.js";
import type { Tensor } from "../torch/tensor.js";
import { BatchNorm2d, Conv2d, Dropout, Linear } from "../nn/layers.js";
import { Module, Sequential } from "../nn/module.js";
import { type InputNormalization, commonOptions, convOut, defineModel, normalizeInput, normalizeOption } from "./common.js";
import { int, optionError, probability } from "../util/schema.js";

/** Side after the stages' stride-2 3×3 convs (padding 1), then the final average pool. */
function pooledSide(model: string, inputShape: readonly number[], stride2Stages: number, pool: number): [number, number] {
  const sides = inputShape.slice(1).map((s) => {
    for (let i = 0; i < stride2Stages; i++) s = convOut(s, 3, 2, 1);
    return Math.floor(s / pool);
  }) as [number, number];
  if (sides[0] < 1 || sides[1] < 1) {
    throw optionError(model, "inputShape", inputShape, `C, H, W large enough for ${stride2Stages} halvings and a ${pool}×${pool} average pool`);
  }
  return sides;
}

class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  /** 1×1 conv + BN where the shape changes; identity (no parameters) otherwise. */
  readonly shortcut?: Sequential;
  constructor(inPlanes: number, planes: number, stride: number, generator: Generator) {
    super();
    this.conv1 = this.child("conv1", new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false, generator }));
    this.bn1 = this.child("bn1", new BatchNorm2d(planes));
    this.conv2 = this.child("conv2", new Conv2d(planes, planes, 3, { padding: 1, bias: false, generator }));
    this.bn2 = this.child("bn2", new BatchNorm2d(planes));
    if (stride !== 1 || inPlanes !== planes) {
      this.shortcut = this.child("shortcut", new Sequential(
        new Conv2d(inPlanes, planes, 1, { stride, bias: false, generator }), new BatchNorm2d(planes)));
    }
  }
  forward(x: Tensor): Tensor {
    const out = this.bn2.forward(this.conv2.forward(F.relu(this.bn1.forward(this.conv1.forward(x)))));
    return F.relu(out.add(this.shortcut ? this.shortcut.forward(x) : x));
  }
}

export class ResNet18 extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layers: Sequential[];
  readonly linear: Linear;
  constructor(o: { inputShape: number[]; classes: number; width: number }, generator: Generator) {
    super();
    const w = o.width;
    const [ph, pw] = pooledSide("resnet18", o.inputShape, 3, 4);
    this.conv1 = this.child("conv1", new Conv2d(o.inputShape[0]!, w, 3, { padding: 1, bias: false, generator }));
    this.bn1 = this.child("bn1", new BatchNorm2d(w));
    let inPlanes = w;
    this.layers = [1, 2, 4, 8].map((m, i) => {
      const planes = m * w;
      const stride = i === 0 ? 1 : 2;
      const blocks = [new BasicBlock(inPlanes, planes, stride, generator), new BasicBlock(planes, planes, 1, generator)];
      inPlanes = planes;
      return this.child(`layer${i + 1}`, new Sequential(...blocks));
    });
    this.linear = this.child("linear", new Linear(inPlanes * ph * pw, o.classes, { generator }));
  }
  forward(x: Tensor): Tensor {
    const h = this.layers.reduce((t, layer) => layer.forward(t), F.relu(this.bn1.forward(this.conv1.forward(x))));
    return this.linear.forward(F.avgPool2d(h, 4).flatten(1));
  }
}

export const resnet18 = defineModel({
  summary: "CIFAR ResNet-18: 3×3 stem, BasicBlocks [2,2,2,2], 1×1 projection shortcuts with BN, avg-pool 4, Linear",
  schema: {
    ...commonOptions([3, 32, 32]),
    width: int(1)(64, "channels of the stem and first stage (the others: 2×, 4×, 8×)"),
  },
  build: (o, g) => new ResNet18(o, g),
});

/** Pre-activation wide block: BN-ReLU-conv-dropout-BN-ReLU-conv(stride) + shortcut (convs with biases, as in the code). */
class WideBasic extends Module {
  readonly bn1: BatchNorm2d;
  readonly conv1: Conv2d;
  readonly dropout: Dropout;
  readonly bn2: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly shortcut?: Conv2d;
  constructor(inPlanes: number, planes: number, dropout: number, stride: number, generator: Generator) {
    super();
    this.bn1 = this.child("bn1", new BatchNorm2d(inPlanes));
    this.conv1 = this.child("conv1", new Conv2d(inPlanes, planes, 3, { padding: 1, generator }));
    this.dropout = this.child("dropout", new Dropout(dropout));
    this.bn2 = this.child("bn2", new BatchNorm2d(planes));
    this.conv2 = this.child("conv2", new Conv2d(planes, planes, 3, { stride, padding: 1, generator }));
    if (stride !== 1 || inPlanes !== planes) this.shortcut = this.child("shortcut", new Conv2d(inPlanes, planes, 1, { stride, generator }));
  }
  forward(x: Tensor): Tensor {
    const out = this.dropout.forward(this.conv1.forward(F.relu(this.bn1.forward(x))));
    return this.conv2.forward(F.relu(this.bn2.forward(out))).add(this.shortcut ? this.shortcut.forward(x) : x);
  }
}

export class WideResNet extends Module {
  readonly conv1: Conv2d;
  readonly layers: Sequential[];
  readonly bn1: BatchNorm2d;
  readonly linear: Linear;
  readonly normalize: InputNormalization | null;
  constructor(o: { inputShape: number[]; classes: number; depth: number; widenFactor: number; dropout: number; normalize: InputNormalization | null }, generator: Generator) {
    super();
    this.normalize = o.normalize;
    if ((o.depth - 4) % 6 !== 0) throw optionError("wrn-28-10", "depth", o.depth, "6n + 4 (10, 16, 22, 28, …)");
    const n = (o.depth - 4) / 6;
    const [ph, pw] = pooledSide("wrn-28-10", o.inputShape, 2, 8);
    const widths = [16, 16 * o.widenFactor, 32 * o.widenFactor, 64 * o.widenFactor];
    this.conv1 = this.child("conv1", new Conv2d(o.inputShape[0]!, widths[0]!, 3, { padding: 1, generator }));
    let inPlanes = widths[0]!;
    this.layers = widths.slice(1).map((planes, i) => {
      const blocks = Array.from({ length: n }, (_, j) => {
        const block = new WideBasic(inPlanes, planes, o.dropout, i > 0 && j === 0 ? 2 : 1, generator);
        inPlanes = planes;
        return block;
      });
      return this.child(`layer${i + 1}`, new Sequential(...blocks));
    });
    // momentum 0.9 as in the code (PyTorch's convention: the weight of the new batch statistic).
    this.bn1 = this.child("bn1", new BatchNorm2d(inPlanes, { momentum: 0.9 }));
    this.linear = this.child("linear", new Linear(inPlanes * ph * pw, o.classes, { generator }));
  }
  forward(x: Tensor): Tensor {
    const h = this.layers.reduce((t, layer) => layer.forward(t), this.conv1.forward(normalizeInput(x, this.normalize)));
    return this.linear.forward(F.avgPool2d(F.relu(this.bn1.forward(h)), 8).flatten(1));
  }
}

export const wrn = defineModel({
  summary: "pre-activation WideResNet (default 28-10, widths 16/160/320/640, dropout 0.3), BN-ReLU, avg-pool 8, Linear",
  schema: {
    ...commonOptions([3, 32, 32]),
    depth: int(10)(28, "total depth 6n + 4 (n wide blocks per stage)"),
    widenFactor: int(1)(10, "k: stage widths 16k, 32k, 64k"),
    dropout: probability(0.3, "dropout between the convs of a block (draws from the global generator)"),
    ...normalizeOption(),
  },
  build: (o, g) => new WideResNet(o, g),
});
