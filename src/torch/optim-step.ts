// Optimizer update rules as in-place functions of tensors (PyTorch's torch.optim._functional):
// the Adam optimizer and the Carlini–Wagner attack, which runs Adam on its perturbation, share
// this one definition.
import type { Tensor } from "./tensor.js";

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** L2 penalty added to the gradient (torch.optim.Adam's weight_decay, not AdamW). */
  weightDecay: number;
}

/**
 * One Adam step (amsgrad off) of `param` from `grad`, updating the moments in place, with
 * PyTorch's order of operations. `step` counts from 1. Call under noGrad, inside a tidy scope.
 */
export function adamStep_(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, step: number, o: AdamHyper): void {
  const g = o.weightDecay !== 0 ? grad.add(param, o.weightDecay) : grad;
  expAvg.mul_(o.beta1).add_(g, 1 - o.beta1);
  expAvgSq.mul_(o.beta2).addcmul_(g, g, 1 - o.beta2);
  const denom = expAvgSq.sqrt().div(Math.sqrt(1 - o.beta2 ** step)).add(o.eps);
  param.addcdiv_(expAvg, denom, -o.lr / (1 - o.beta1 ** step));
}
