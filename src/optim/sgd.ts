import type { Tensor } from "../torch/tensor.js";
import { Optimizer } from "./optimizer.js";

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** torch.optim.SGD, same update rule (the momentum buffer starts at the first gradient). */
export class SGD extends Optimizer {
  readonly options: Required<Omit<SgdOptions, "lr">>;

  constructor(params: readonly Tensor[], o: SgdOptions) {
    super(params, o.lr);
    this.options = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...o };
    if (this.options.nesterov && (this.options.momentum <= 0 || this.options.dampening !== 0)) {
      throw new RangeError("SGD: nesterov needs momentum > 0 and dampening = 0");
    }
  }

  protected update(p: Tensor, grad: Tensor, i: number): void {
    const { momentum, dampening, weightDecay, nesterov } = this.options;
    let g = weightDecay !== 0 ? grad.add(p, weightDecay) : grad;
    if (momentum !== 0) {
      const [buf, fresh] = this.slot("momentum_buffer", i, () => g.clone());
      if (!fresh) buf.mul_(momentum).add_(g, 1 - dampening);
      g = nesterov ? g.add(buf, momentum) : buf;
    }
    p.sub_(g, this.lr);
  }
}
