import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";

export type Split = "train" | "test";
export const SPLITS: readonly Split[] = ["train", "test"];

/** Per-channel input standardisation that a model wrapper applies; inputs themselves stay in [0,1]. */
export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

/**
 * A labelled set held in memory (on the CPU). `images` are uint8 N×C×H×W pixels (0–255) for image
 * sets, so a 50k CIFAR split takes 150 MB instead of 600; the loader converts each batch to float
 * in [0,1]. Sets whose signal would not survive 8-bit quantisation (hidden-shortcut) hold float32
 * images, and non-image sets (orthogonal) hold float32 N×d vectors. Free with `torch.dispose(ds)`.
 */
export interface Dataset {
  images: Tensor;
  /** int64 class indices, N. */
  labels: Tensor;
  classes: number;
  name: string;
  normalization?: Normalization;
}

/** The wrappers' constants of paper B's code; CIFAR-100's are the usual training-set values. */
export const NORMALIZATION = {
  mnist: { mean: [0.1307], std: [0.3081] },
  "fashion-mnist": { mean: [0.286], std: [0.353] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  cifar100: { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] },
} as const satisfies Record<string, Normalization>;

/** Examples per class. */
export function labelCounts(ds: Dataset): number[] {
  return torch.tidy(() => Array.from(torch.nn.functional.oneHot(ds.labels, ds.classes).sum(0).toTypedArray() as BigInt64Array, Number));
}
