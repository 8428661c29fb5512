import { noGrad } from "../torch/autograd.js";
import { zerosLike } from "../torch/ops.js";
import { keep, tidy } from "../torch/scope.js";
import type { Tensor } from "../torch/tensor.js";

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** torch.optim.SGD, same update rule (momentum buffer starts at the first gradient). */
export class SGD {
  readonly params: readonly Tensor[];
  readonly options: Required<SgdOptions>;
  #buffers: (Tensor | undefined)[];

  constructor(params: readonly Tensor[], o: SgdOptions) {
    if (!(o.lr > 0)) throw new RangeError(`SGD: lr must be > 0, got ${o.lr}`);
    this.options = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...o };
    if (this.options.nesterov && (this.options.momentum <= 0 || this.options.dampening !== 0)) {
      throw new RangeError("SGD: nesterov needs momentum > 0 and dampening = 0");
    }
    this.params = params;
    this.#buffers = params.map(() => undefined);
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = undefined;
  }

  step(): void {
    const { lr, momentum, dampening, weightDecay, nesterov } = this.options;
    noGrad(() => tidy(() => {
      this.params.forEach((p, i) => {
        let g = p.grad;
        if (g === undefined) return;
        if (weightDecay !== 0) g = g.add(p, weightDecay);
        if (momentum !== 0) {
          let buf = this.#buffers[i];
          if (buf === undefined) buf = this.#buffers[i] = keep(g.clone());
          else buf.mul_(momentum).add_(g, 1 - dampening);
          g = nesterov ? g.add(buf, momentum) : buf;
        }
        p.sub_(g, lr);
      });
    }));
  }

  /** Momentum buffers, for checkpoints (undefined before a parameter's first step). */
  state(): (Tensor | undefined)[] {
    return [...this.#buffers];
  }

  loadState(buffers: readonly (Tensor | undefined)[]): void {
    this.dispose();
    this.#buffers = this.params.map((p, i) => (buffers[i] === undefined ? undefined : keep(zerosLike(p).copy_(buffers[i]!))));
  }

  dispose(): void {
    for (const b of this.#buffers) b?.dispose();
    this.#buffers = this.params.map(() => undefined);
  }
}
