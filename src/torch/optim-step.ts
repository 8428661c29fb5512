// Optimizer update rules over lists of tensors, each one native call (native/src/ops.cc) that runs
// PyTorch's torch.optim ops in its order. The optimizers and the Carlini–Wagner attack, which runs
// Adam on its perturbation, share these definitions.
import { hs } from "./handles.js";
import { N } from "./native.js";
import type { Tensor } from "./tensor.js";

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/**
 * One SGD step of every param from its grad. With momentum, `buffers[i]` is param i's momentum
 * buffer; the indexes in `fresh` are buffers created for this step (their contents are replaced by
 * the gradient, as PyTorch starts them). Call under noGrad.
 */
export function sgdStep_(params: readonly Tensor[], grads: readonly Tensor[], buffers: readonly Tensor[], fresh: readonly number[], o: SgdHyper): void {
  N.sgd_step_(hs(params), hs(grads), hs(buffers), [...fresh], o.lr, o.momentum, o.dampening, o.weightDecay, o.nesterov);
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** L2 penalty added to the gradient (torch.optim.Adam's weight_decay, not AdamW). */
  weightDecay: number;
}

/**
 * One Adam step (amsgrad off) of every param from its grad, updating the moments in place, with
 * PyTorch's order of operations. `step` counts from 1. Call under noGrad.
 */
export function adamStep_(params: readonly Tensor[], grads: readonly Tensor[], expAvg: readonly Tensor[], expAvgSq: readonly Tensor[], step: number, o: AdamHyper): void {
  N.adam_step_(hs(params), hs(grads), hs(expAvg), hs(expAvgSq), o.beta1, o.beta2, o.eps, o.weightDecay,
    -o.lr / (1 - o.beta1 ** step), Math.sqrt(1 - o.beta2 ** step));
}
