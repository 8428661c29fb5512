// torch.nn.functional: PyTorch's argument names and defaults.
import { h, hOpt, w } from "./handles.js";
import { N } from "./native.js";
import * as ops from "./ops.js";
import type { Generator } from "./random.js";
import type { Tensor } from "./tensor.js";
export { softmax, logSoftmax } from "./ops.js";

/** Sees the input of every relu / leakyRelu call while observeActivations runs. */
export type ActivationObserver = (input: Tensor) => void;
let observer: ActivationObserver | undefined;

/**
 * Runs fn (synchronous) with `observe` called on the input of every F.relu and F.leakyRelu (the
 * ReLU module calls F.relu), in call order: the on/off state of every ReLU in any model, without
 * the model exposing its hidden layers. An inner call replaces the outer observer until it returns.
 */
export function observeActivations<R>(fn: () => R, observe: ActivationObserver): R {
  for (const [name, f] of [["fn", fn], ["observe", observe]] as const) {
    if (typeof f !== "function") throw new TypeError(`observeActivations: expected ${name} to be a function, got ${f === null ? "null" : typeof f}`);
  }
  const previous = observer;
  observer = observe;
  try {
    return fn();
  } finally {
    observer = previous;
  }
}

export function relu(x: Tensor): Tensor {
  if (observer !== undefined) observer(x);
  return ops.relu(x);
}

type Pair = number | readonly [number, number];
const pair = (p: Pair): readonly number[] => (typeof p === "number" ? [p, p] : p);
export type Reduction = "none" | "mean" | "sum";

export const linear = (x: Tensor, weight: Tensor, bias?: Tensor) => w(N.linear(h(x), h(weight, "weight"), hOpt(bias, "bias")));

export interface Conv2dOptions {
  stride?: Pair;
  /** Zero padding per side, or "same" / "valid". */
  padding?: Pair | "same" | "valid";
  dilation?: Pair;
  groups?: number;
}
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor, o?: Conv2dOptions | null): Tensor {
  const { stride = 1, padding = 0, dilation = 1, groups = 1 } = o ?? {};
  return w(typeof padding === "string"
    ? N.conv2d_padding_mode(h(x), h(weight, "weight"), hOpt(bias, "bias"), stride, padding, dilation, groups)
    : N.conv2d(h(x), h(weight, "weight"), hOpt(bias, "bias"), stride, padding, dilation, groups));
}

export interface PoolOptions {
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
}
export const maxPool2d = (x: Tensor, kernelSize: Pair, o?: (PoolOptions & { dilation?: Pair }) | null) =>
  w(N.max_pool2d(h(x), kernelSize, o?.stride ?? kernelSize, o?.padding ?? 0, o?.dilation ?? 1, o?.ceilMode ?? false));
export const avgPool2d = (x: Tensor, kernelSize: Pair, o?: (PoolOptions & { countIncludePad?: boolean }) | null) =>
  w(N.avg_pool2d(h(x), kernelSize, o?.stride ?? kernelSize, o?.padding ?? 0, o?.ceilMode ?? false, o?.countIncludePad ?? true));
export const adaptiveAvgPool2d = (x: Tensor, outputSize: Pair) => w(N.adaptive_avg_pool2d(h(x), pair(outputSize)));

export interface BatchNormOptions {
  weight?: Tensor;
  bias?: Tensor;
  /** Batch statistics (and running-stat updates, in place) when true; running stats when false. */
  training?: boolean;
  momentum?: number;
  eps?: number;
}
export function batchNorm(x: Tensor, runningMean: Tensor | undefined, runningVar: Tensor | undefined, o?: (BatchNormOptions) | null): Tensor {
  return w(N.batch_norm(h(x), hOpt(o?.weight, "weight"), hOpt(o?.bias, "bias"), hOpt(runningMean, "runningMean"),
    hOpt(runningVar, "runningVar"), o?.training ?? false, o?.momentum ?? 0.1, o?.eps ?? 1e-5));
}
export const layerNorm = (x: Tensor, normalizedShape: readonly number[], weight?: Tensor, bias?: Tensor, eps = 1e-5) =>
  w(N.layer_norm(h(x), normalizedShape, hOpt(weight, "weight"), hOpt(bias, "bias"), eps));
/** Inverted dropout: zeroes with probability p and scales survivors by 1/(1-p) when training. */
export const dropout = (x: Tensor, p = 0.5, training = true, generator?: Generator) => w(N.dropout(h(x), p, training, generator?.id));
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  if (observer !== undefined) observer(x);
  return w(N.leaky_relu(h(x), negativeSlope));
}
export const gelu = (x: Tensor, approximate: "none" | "tanh" = "none") => w(N.gelu(h(x), approximate));

export interface LossOptions {
  reduction?: Reduction;
  weight?: Tensor;
  ignoreIndex?: number;
}
/** Cross-entropy of logits (N, C, ...) against class indices (N, ...). */
export const crossEntropy = (logits: Tensor, target: Tensor, o?: (LossOptions & { labelSmoothing?: number }) | null) =>
  w(N.cross_entropy(h(logits), h(target, "target"), hOpt(o?.weight, "weight"), o?.reduction ?? "mean", o?.ignoreIndex ?? -100, o?.labelSmoothing ?? 0));
export const nllLoss = (logProbs: Tensor, target: Tensor, o?: (LossOptions) | null) =>
  w(N.nll_loss(h(logProbs), h(target, "target"), hOpt(o?.weight, "weight"), o?.reduction ?? "mean", o?.ignoreIndex ?? -100));
export const mseLoss = (x: Tensor, target: Tensor, reduction: Reduction = "mean") => w(N.mse_loss(h(x), h(target, "target"), reduction));
export const oneHot = (indices: Tensor, numClasses = -1) => w(N.one_hot(h(indices), numClasses));

/** Pads the last dims: pad = [left, right, top, bottom, ...] as in PyTorch. */
export const pad = (x: Tensor, padding: readonly number[], mode: "constant" | "reflect" | "replicate" | "circular" = "constant", value?: number) =>
  w(N.pad(h(x), padding, mode, mode === "constant" ? (value ?? 0) : undefined));
/** im2col: (N, C, H, W) -> (N, C*kh*kw, L) sliding blocks. */
export const unfold = (x: Tensor, kernelSize: Pair, o?: ({ dilation?: Pair; padding?: Pair; stride?: Pair }) | null) =>
  w(N.unfold(h(x), pair(kernelSize), pair(o?.dilation ?? 1), pair(o?.padding ?? 0), pair(o?.stride ?? 1)));
