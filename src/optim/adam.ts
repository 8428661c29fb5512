import { zerosLike } from "../torch/ops.js";
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

  protected update(p: Tensor, grad: Tensor, i: number): void {
    const [b1, b2] = this.betas;
    const g = this.weightDecay !== 0 ? grad.add(p, this.weightDecay) : grad;
    const [m] = this.slot("exp_avg", i, () => zerosLike(p));
    const [v] = this.slot("exp_avg_sq", i, () => zerosLike(p));
    m.mul_(b1).add_(g, 1 - b1);
    v.mul_(b2).addcmul_(g, g, 1 - b2);
    const denom = v.sqrt().div(Math.sqrt(1 - b2 ** this.steps)).add(this.eps);
    p.addcdiv_(m, denom, -this.lr / (1 - b1 ** this.steps));
  }
}
