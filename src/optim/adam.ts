import { zerosLike } from "../torch/ops.js";
import { adamStep_ } from "../torch/optim-step.js";
import type { Tensor } from "../torch/tensor.js";
import { Optimizer } from "./optimizer.js";

export interface AdamOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  /** L2 penalty added to the gradient (torch.optim.Adam's weight_decay, not AdamW). */
  weightDecay?: number;
}

/** torch.optim.Adam (amsgrad off), with PyTorch's order of operations. */
export class Adam extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;

  constructor(params: readonly Tensor[], o: AdamOptions) {
    super(params, o.lr);
    this.betas = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
  }

  protected update(indexes: readonly number[], params: readonly Tensor[], grads: readonly Tensor[]): void {
    const moment = (name: string) => indexes.map((i, k) => this.slot(name, i, () => zerosLike(params[k]!))[0]);
    adamStep_(params, grads, moment("exp_avg"), moment("exp_avg_sq"), this.steps,
      { lr: this.lr, beta1: this.betas[0], beta2: this.betas[1], eps: this.eps, weightDecay: this.weightDecay });
  }
}
