// Fast Minimum-Norm attack (Pintor et al. 2021) in L0, L1, L2 and L∞, with Foolbox 3.3.4's loop
// (`attacks/fast_minimum_norm.py`), started from the input: gradient steps on the logit margin,
// each projected onto an ε-ball whose radius shrinks while the iterate is adversarial and grows
// while it is not (before the first adversarial: jumps to the linearised distance to the boundary).
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";
import type { Criterion } from "./criteria.js";
import { atleastKd, clipToBounds, normalizeLp, norms, type Norm, NORMS } from "./norms.js";
import { advance, MinimizationAttack, type MinimizeContext } from "./types.js";

/**
 * Foolbox's attack margin, [N] and differentiable: untargeted l[y] − max_{j≠y} l[j], targeted
 * max_{j≠t} l[j] − l[t]. The criterion holds where it is negative (ties aside). The best other
 * class is picked by argmax and its logit gathered, as Foolbox does (amax would split the
 * gradient between tied classes).
 */
export function logitMargin(logits: Tensor, criterion: Criterion): Tensor {
  return torch.tidy(() => {
    const cls = criterion.classes.unsqueeze(1);
    const other = torch.noGrad(() => logits.detach().scatter(1, cls, -Infinity).argmax(1, true));
    const own = logits.gather(1, cls);
    const best = logits.gather(1, other);
    return (criterion.targeted ? best.sub(own) : own.sub(best)).squeeze(1);
  });
}

/**
 * Euclidean projection of each example of delta onto its own ε-ball (epsilon: [N], may hold
 * Infinity): the per-example counterpart of norms.ts's project(). L0 keeps the ⌊ε⌋ entries of
 * largest magnitude (ties by sort order).
 */
export function projectPerExample(delta: Tensor, epsilon: Tensor, norm: Norm): Tensor {
  return torch.tidy(() => {
    const e = atleastKd(epsilon, delta.ndim);
    if (norm === "linf") return torch.minimum(torch.maximum(delta, e.neg()), e);
    if (norm === "l2") return delta.mul(atleastKd(epsilon.div(norms(delta, "l2").clamp(1e-12)).clamp(null, 1), delta.ndim));
    const flat = delta.flatten(1);
    const [n, d] = [flat.shape[0]!, flat.shape[1]!];
    const abs = flat.abs();
    const sorted = torch.sort(abs, 1, true);
    if (norm === "l0") {
      const ranks = torch.zerosLike(sorted.indices).scatter(1, sorted.indices, torch.arange(d, undefined, 1, { device: delta.device }).expand(n, d));
      return flat.maskedFill(ranks.ge(epsilon.floor().unsqueeze(1)), 0).reshape(...delta.shape);
    }
    // L1, Duchi et al. 2008 as norms.ts's projectL1, with one ε per row: inside the ball θ = 0.
    const cumsum = sorted.values.cumsum(1);
    const j = torch.arange(1, d + 1, 1, { dtype: delta.dtype, device: delta.device });
    const rho = sorted.values.mul(j).gt(cumsum.sub(epsilon.unsqueeze(1))).sum(1, true).clamp(1);
    const theta = cumsum.gather(1, rho.sub(1)).sub(epsilon.unsqueeze(1)).div(rho.to(delta.dtype)).clamp(0);
    return flat.sign().mul(abs.sub(theta).relu()).reshape(...delta.shape);
  });
}

/** The dual of each norm, in which the gradient measures the linearised distance to the boundary. */
const DUAL_P: Readonly<Record<Exclude<Norm, "l0">, number>> = { l1: Infinity, l2: 2, linf: 1 };

export interface FMNOptions {
  /** Iterations (default 100). */
  readonly steps?: number;
  /** Initial gradient step, cosine-annealed down to minStepsize (default 1). */
  readonly maxStepsize?: number;
  /** Final gradient step (default maxStepsize / 100). */
  readonly minStepsize?: number;
  /** Initial relative change of ε per step, cosine-annealed down to 0.001 (default 0.05). */
  readonly gamma?: number;
}

/**
 * FMN in one norm. Gradient steps are L2-normalised in every norm (as in Foolbox and the paper's
 * code); the iterate is projected onto the current ε-ball of the attack's norm and the bounds.
 * Returns, per example, the smallest adversarial iterate seen (the input where none was).
 */
export class FMN extends MinimizationAttack {
  readonly distance: Norm;
  readonly steps: number;
  readonly maxStepsize: number;
  readonly minStepsize: number;
  readonly gamma: number;

  constructor(norm: Norm, options: FMNOptions = {}) {
    super();
    if (!NORMS.includes(norm)) throw new RangeError(`norm: expected one of ${NORMS.join(", ")}, got ${JSON.stringify(norm)}`);
    this.distance = norm;
    this.steps = options.steps ?? 100;
    this.maxStepsize = options.maxStepsize ?? 1;
    this.minStepsize = options.minStepsize ?? this.maxStepsize / 100;
    this.gamma = options.gamma ?? 0.05;
    if (!(Number.isInteger(this.steps) && this.steps >= 1)) throw new RangeError(`steps: expected an integer ≥ 1, got ${this.steps}`);
    for (const [k, v] of [["maxStepsize", this.maxStepsize], ["minStepsize", this.minStepsize], ["gamma", this.gamma]] as const) {
      if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${k}: expected a positive number, got ${v}`);
    }
  }

  get name(): string {
    return `FMN ${this.distance} (${this.steps} steps, stepsize ${this.maxStepsize}→${this.minStepsize}, gamma ${this.gamma}→0.001)`;
  }

  protected minimize({ model, inputs: x, criterion }: MinimizeContext): Tensor {
    const norm = this.distance;
    const n = x.shape[0]!;
    const [lo, hi] = model.finiteBounds("FMN");
    const kd = (t: Tensor) => atleastKd(t, x.ndim);
    const opts = { dtype: x.dtype, device: x.device };
    // The largest perturbation the bounds allow: ε never needs to exceed it.
    const worst = torch.tidy(() => norm === "l0"
      ? torch.full([n], x.numel / n, opts)
      : norms(torch.maximum(x.sub(lo), x.neg().add(hi)), norm));
    const delta = torch.zerosLike(x);
    let s = {
      delta,
      epsilon: torch.full([n], norm === "l0" ? 1 : Infinity, opts),
      bestNorm: worst,
      bestDelta: delta,
      advFound: torch.zeros([n], { dtype: "bool", device: x.device }),
    };
    for (let i = 0; i < this.steps; i++) {
      const cosine = (1 + Math.cos((Math.PI * i) / this.steps)) / 2;
      const stepsize = this.minStepsize + (this.maxStepsize - this.minStepsize) * cosine;
      const gamma = 0.001 + (this.gamma - 0.001) * cosine;
      s = advance(s, (s) => {
        const { loss, logits, grad } = model.valueAndGrad(x.add(s.delta), (l) => logitMargin(l, criterion).neg());
        const isAdv = criterion.isAdversarial(logits);
        const lp = norms(s.delta, norm);
        const better = isAdv.logicalAnd(lp.le(s.bestNorm));
        const advFound = s.advFound.logicalOr(isAdv);
        const bestNorm = torch.where(better, lp, s.bestNorm);
        const bestDelta = torch.where(kd(better), s.delta, s.bestDelta);
        let epsilon: Tensor;
        if (norm === "l0") {
          const shrunk = torch.minimum(torch.minimum(s.epsilon.sub(1), s.epsilon.mul(1 - gamma).floor()), bestNorm);
          epsilon = torch.where(isAdv, shrunk, torch.maximum(s.epsilon.add(1), s.epsilon.mul(1 + gamma).floor())).clamp(1);
        } else {
          // loss is −margin; the clamp only keeps a vanishing gradient from giving 0/0.
          const toBoundary = loss.abs().div(grad.flatten(1).norm(DUAL_P[norm], 1).clamp(1e-12));
          epsilon = torch.where(isAdv, torch.minimum(s.epsilon.mul(1 - gamma), bestNorm),
            torch.where(advFound, s.epsilon.mul(1 + gamma), lp.add(toBoundary)));
        }
        epsilon = torch.minimum(epsilon, worst);
        const stepped = projectPerExample(s.delta.add(normalizeLp(grad, 2).mul(stepsize)), epsilon, norm);
        return { delta: clipToBounds(x.add(stepped), model.bounds).sub(x), epsilon, bestNorm, bestDelta, advFound };
      }, [worst]);
    }
    const adversarial = x.add(s.bestDelta);
    torch.dispose([s, worst]);
    return adversarial;
  }
}
