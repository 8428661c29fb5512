// Decoupled Direction and Norm (Rony et al. 2019), L2, with Foolbox 3.3.4's loop
// (`attacks/ddn.py`): a normalised cross-entropy gradient step (step size cosine-annealed from 1
// to 0.01), then the perturbation is rescaled to a norm ε that shrinks by (1 − γ) while the
// iterate is adversarial and grows by (1 + γ) while it is not.
import * as F from "../torch/functional.js";
import * as torch from "../torch/index.js";
import type { Generator, Tensor } from "../torch/index.js";
import { atleastKd, clipToBounds, normalizeLp, norms } from "./norms.js";
import { advance, MinimizationAttack, type MinimizeContext } from "./types.js";

export interface DDNOptions {
  /** Initial norm of the perturbation (default 1). */
  readonly initEpsilon?: number;
  /** Iterations (default 100, Foolbox 3.3.4). */
  readonly steps?: number;
  /** Relative change of the norm per step (default 0.05). */
  readonly gamma?: number;
}

/** Unit-L2 gradients; an all-zero gradient is replaced by a Gaussian direction from the generator, as Foolbox. */
function unitGradient(grad: Tensor, generator: Generator): Tensor {
  return torch.tidy(() => {
    const vanished = norms(grad, "l2").eq(0);
    if (!torch.any(vanished).item()) return normalizeLp(grad, 2);
    const noise = torch.randn(grad.shape, { generator, dtype: grad.dtype, device: grad.device });
    return normalizeLp(torch.where(atleastKd(vanished, grad.ndim), noise, grad), 2);
  });
}

export class DDN extends MinimizationAttack {
  readonly distance = "l2" as const;
  readonly initEpsilon: number;
  readonly steps: number;
  readonly gamma: number;

  constructor(options: DDNOptions = {}) {
    super();
    this.initEpsilon = options.initEpsilon ?? 1;
    this.steps = options.steps ?? 100;
    this.gamma = options.gamma ?? 0.05;
    if (!(Number.isInteger(this.steps) && this.steps >= 1)) throw new RangeError(`steps: expected an integer ≥ 1, got ${this.steps}`);
    if (!(Number.isFinite(this.initEpsilon) && this.initEpsilon > 0)) throw new RangeError(`initEpsilon: expected a positive number, got ${this.initEpsilon}`);
    if (!(this.gamma > 0 && this.gamma < 1)) throw new RangeError(`gamma: expected a number in (0, 1), got ${this.gamma}`);
  }

  get name(): string {
    return `DDN l2 (${this.steps} steps, init epsilon ${this.initEpsilon}, gamma ${this.gamma})`;
  }

  protected minimize({ model, inputs: x, criterion, generator }: MinimizeContext): Tensor {
    const n = x.shape[0]!;
    const [lo, hi] = model.finiteBounds("DDN");
    const kd = (t: Tensor) => atleastKd(t, x.ndim);
    const sign = criterion.targeted ? -1 : 1;
    const classes = criterion.classes;
    const lossFn = (logits: Tensor) => F.crossEntropy(logits, classes, { reduction: "none" }).mul(sign);
    const worst = torch.tidy(() => norms(torch.maximum(x.sub(lo), x.neg().add(hi)), "l2"));
    const delta = torch.zerosLike(x);
    let s = {
      delta,
      epsilon: torch.full([n], this.initEpsilon, { dtype: x.dtype, device: x.device }),
      bestNorm: worst,
      bestDelta: delta,
    };
    for (let i = 0; i < this.steps; i++) {
      const stepsize = 0.01 + (1 - 0.01) * (1 + Math.cos((Math.PI * i) / this.steps)) / 2;
      s = advance(s, (s) => {
        const { logits, grad } = model.valueAndGrad(x.add(s.delta), lossFn);
        const isAdv = criterion.isAdversarial(logits);
        const l2 = norms(s.delta, "l2");
        const better = isAdv.logicalAnd(l2.le(s.bestNorm));
        const stepped = s.delta.add(unitGradient(grad, generator).mul(stepsize));
        const epsilon = torch.minimum(torch.where(isAdv, s.epsilon.mul(1 - this.gamma), s.epsilon.mul(1 + this.gamma)), worst);
        // Rescaled to norm ε exactly (up as well as down), then clipped to the bounds.
        const rescaled = stepped.mul(kd(epsilon.div(norms(stepped, "l2").clamp(1e-12))));
        return {
          delta: clipToBounds(x.add(rescaled), model.bounds).sub(x),
          epsilon,
          bestNorm: torch.where(better, l2, s.bestNorm),
          bestDelta: torch.where(kd(better), s.delta, s.bestDelta),
        };
      }, [worst]);
    }
    const adversarial = x.add(s.bestDelta);
    torch.dispose([s, worst]);
    return adversarial;
  }
}
