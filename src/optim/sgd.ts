import { zerosLike } from "../torch/ops.js";
import { sgdStep_ } from "../torch/optim-step.js";
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

  protected update(indexes: readonly number[], params: readonly Tensor[], grads: readonly Tensor[]): void {
    const buffers: Tensor[] = [];
    const fresh: number[] = [];
    if (this.options.momentum !== 0) {
      indexes.forEach((i, k) => {
        const [buf, created] = this.slot("momentum_buffer", i, () => zerosLike(params[k]!));
        buffers.push(buf);
        if (created) fresh.push(k);
      });
    }
    sgdStep_(params, grads, buffers, fresh, { lr: this.lr, ...this.options });
  }
}
