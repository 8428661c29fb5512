// VGG-19 with BatchNorm for CIFAR (the code's vgg19_bn, config E), keys as in that code:
// features.N.* and classifier.N.* (torchvision's layout).
import { zeros } from "../torch/ops.js";
import type { Generator } from "../torch/random.js";
import type { Tensor } from "../torch/tensor.js";
import { normal } from "../nn/init.js";
import { BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d, ReLU } from "../nn/layers.js";
import { Module, Sequential } from "../nn/module.js";
import { commonOptions, defineModel, reinit_ } from "./common.js";
import { int, probability } from "../util/schema.js";

/** Config E at width 64; "M" is a 2×2 max-pool. */
const CONFIG_E = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"] as const;

export interface VggOptions {
  inputShape: number[];
  classes: number;
  width: number;
  dropout: number;
}

export class VGG extends Module {
  readonly features: Sequential;
  readonly classifier: Sequential;
  constructor(o: VggOptions, generator: Generator) {
    super();
    let c = o.inputShape[0]!;
    // Five 2×2 max-pools in ceil mode: the same as floor mode on 32×32 (every side even), and
    // 28×28 (MNIST) still reaches 1×1 (28 → 14 → 7 → 4 → 2 → 1) instead of vanishing.
    const [h, w] = o.inputShape.slice(1).map((s) => Math.ceil(s / 32)) as [number, number];
    const layers: Module[] = [];
    for (const v of CONFIG_E) {
      if (v === "M") {
        layers.push(new MaxPool2d(2, 2, 0, true));
        continue;
      }
      const out = (v / 64) * o.width;
      const conv = new Conv2d(c, out, 3, { padding: 1, generator });
      // The code's init: N(0, √(2/n)), n = k²·C_out, and zero biases.
      reinit_(conv, "weight", (s) => normal(s, Math.sqrt(2 / (9 * out)), generator));
      reinit_(conv, "bias", (s) => zeros(s));
      layers.push(conv, new BatchNorm2d(out), new ReLU());
      c = out;
    }
    this.features = this.child("features", new Sequential(...layers));
    const hidden = 8 * o.width;
    this.classifier = this.child("classifier", new Sequential(
      new Dropout(o.dropout), new Linear(c * h * w, hidden, { generator }), new ReLU(),
      new Dropout(o.dropout), new Linear(hidden, hidden, { generator }), new ReLU(),
      new Linear(hidden, o.classes, { generator }),
    ));
  }
  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x).flatten(1));
  }
}

export const vgg19 = defineModel({
  summary: "VGG-19 with BatchNorm (config E, max-pools), classifier Dropout-Linear-ReLU-Dropout-Linear-ReLU-Linear",
  schema: {
    ...commonOptions([3, 32, 32]),
    width: int(1)(64, "channels of the first block (the others: 2×, 4×, 8×, 8×; classifier width 8×)"),
    dropout: probability(0.5, "dropout probability in the classifier (draws from the global generator)"),
  },
  build: (o, g) => new VGG(o, g),
});
