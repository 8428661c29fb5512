// Random-direction controls: paper A's breakpoint study compares the adversarial path x → x + δ
// with a random one of the same size (our choice, docs/methods.md: r ~ N(0, I) rescaled to ‖r‖₂ = ‖δ‖₂).
import * as torch from "../torch/index.js";
import type { Generator, Tensor } from "../torch/index.js";
import { atleastKd, clipToBounds, NORM_P, type Bounds } from "./norms.js";
import { FixedEpsilonAttack, withGenerator, type PerturbContext } from "./types.js";

/** A Gaussian direction per example, rescaled to the given per-example sizes [N] in the L2 or L∞ norm (0 stays 0). */
function gaussianWithNorms(like: Tensor, sizes: Tensor, norm: "l2" | "linf", generator: Generator): Tensor {
  return torch.tidy(() => {
    const r = torch.randn(like.shape, { generator, dtype: like.dtype, device: like.device });
    const n = r.flatten(1).norm(NORM_P[norm], 1).clamp(1e-12);
    return r.mul(atleastKd(sizes.div(n), like.ndim));
  });
}

export interface RandomLikeOptions {
  /** The norm whose size is matched (default "l2", as paper A's control). */
  readonly norm?: "l2" | "linf";
  /** Seed of the Gaussian draw (default 0). */
  readonly seed?: number;
  /** Input range the result is clipped to (default [0, 1]). */
  readonly bounds?: Bounds;
}

/**
 * inputs + r, clipped to bounds, where per example r is a Gaussian direction with the same L2
 * (or L∞) norm as `perturbation` (e.g. an attack's clipped − inputs). The clip can shrink r, as
 * it shrinks an adversarial perturbation that reaches the bounds.
 */
export function randomLike(inputs: Tensor, perturbation: Tensor, options: RandomLikeOptions = {}): Tensor {
  const { norm = "l2", seed = 0, bounds = [0, 1] } = options;
  if (perturbation.shape.join() !== inputs.shape.join()) {
    throw new RangeError(`randomLike: perturbation [${perturbation.shape.join(", ")}] does not match inputs [${inputs.shape.join(", ")}]`);
  }
  return withGenerator(seed, (g) => torch.tidy(() => {
    const sizes = perturbation.flatten(1).norm(NORM_P[norm], 1);
    return clipToBounds(inputs.add(gaussianWithNorms(inputs, sizes, norm, g)), bounds);
  }));
}

/**
 * The same control as a fixed-ε attack: x + ε·r/‖r‖ for a Gaussian r, clipped to bounds (Foolbox's
 * L2AdditiveGaussianNoiseAttack for L2). Its success rate is the noise baseline of an ε.
 */
export class RandomNoise extends FixedEpsilonAttack {
  readonly distance: "l2" | "linf";
  constructor(norm: "l2" | "linf" = "l2") {
    super();
    if (norm !== "l2" && norm !== "linf") throw new RangeError(`norm: expected "l2" or "linf", got ${JSON.stringify(norm)}`);
    this.distance = norm;
  }
  get name(): string {
    return `random Gaussian direction (${this.distance})`;
  }
  protected perturb({ model, inputs, epsilon, generator }: PerturbContext): Tensor {
    return torch.tidy(() => {
      const sizes = torch.full([inputs.shape[0]!], epsilon, { dtype: inputs.dtype, device: inputs.device });
      return clipToBounds(inputs.add(gaussianWithNorms(inputs, sizes, this.distance, generator)), model.bounds);
    });
  }
}
