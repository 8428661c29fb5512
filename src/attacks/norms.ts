// Per-example norms, projections, gradient normalisations and random starts shared by every
// attack. Definitions follow Foolbox 3.3.4 (`distances.py`, `gradient_descent_base.py`,
// `sparse_l1_descent_attack.py`) unless a comment says otherwise. Every function treats dim 0 as
// the batch and the rest of a tensor as one example; none of them keeps a tensor alive.
import * as torch from "../torch/index.js";
import type { Generator, Tensor } from "../torch/index.js";
import type { Bounds } from "../nn/attack-model.js";

/** The distances attacks are measured in: number of changed coordinates, L1, L2, L∞. */
export type Norm = "l0" | "l1" | "l2" | "linf";
export const NORMS: readonly Norm[] = ["l0", "l1", "l2", "linf"];
/** The p of each norm (Infinity for L∞), as `Tensor.norm` takes it. */
export const NORM_P: Readonly<Record<Norm, number>> = { l0: 0, l1: 1, l2: 2, linf: Infinity };

/** Input range of a model, [lower, upper] (Foolbox's `bounds`). */
export type { Bounds } from "../nn/attack-model.js";

/** A per-example [N] tensor reshaped to [N, 1, …, 1] so that it broadcasts against a batch of `ndim` dims. */
export function atleastKd(t: Tensor, ndim: number): Tensor {
  return t.reshape(t.shape[0]!, ...new Array<number>(Math.max(ndim - 1, 0)).fill(1));
}

/**
 * Per-example size of a batch of perturbations: [N] in `delta`'s dtype. L0 counts the nonzero
 * coordinates (each channel of each pixel is one coordinate, as in Foolbox).
 */
export function norms(delta: Tensor, norm: Norm): Tensor {
  return torch.tidy(() => {
    const flat = delta.flatten(1);
    return norm === "l0" ? flat.ne(0).sum(1).to(delta.dtype) : flat.norm(NORM_P[norm], 1);
  });
}

/** L0, L1, L2 and L∞ of each example of `delta`, each [N]. */
export interface PerturbationNorms {
  readonly l0: Tensor;
  readonly l1: Tensor;
  readonly l2: Tensor;
  readonly linf: Tensor;
}

export function perturbationNorms(delta: Tensor): PerturbationNorms {
  return { l0: norms(delta, "l0"), l1: norms(delta, "l1"), l2: norms(delta, "l2"), linf: norms(delta, "linf") };
}

/** Elementwise clip into the model's input range. */
export const clipToBounds = (x: Tensor, bounds: Bounds): Tensor => x.clamp(bounds[0], bounds[1]);

/**
 * Foolbox's `clip_lp_norms`: examples whose Lp norm exceeds ε are scaled down radially to norm ε,
 * the others are left alone. For p = 2 this is the Euclidean projection onto the ball; for p = 1
 * it is not (see projectL1), but it is what Foolbox's L1 attacks and its `clipped` output use.
 */
export function clipLpNorm(delta: Tensor, epsilon: number, p: 1 | 2): Tensor {
  return torch.tidy(() => {
    const n = delta.flatten(1).norm(p, 1).clamp(1e-12); // Foolbox's guard against dividing by zero
    const factor = n.reciprocal().mul(epsilon).clamp(null, 1);
    return delta.mul(atleastKd(factor, delta.ndim));
  });
}

/** Euclidean projection onto the L∞ ball: elementwise clip to [−ε, ε]. */
export const projectLinf = (delta: Tensor, epsilon: number): Tensor => delta.clamp(-epsilon, epsilon);

/** Euclidean projection onto the L2 ball (radial rescaling of the examples outside it). */
export const projectL2 = (delta: Tensor, epsilon: number): Tensor => clipLpNorm(delta, epsilon, 2);

/**
 * Exact Euclidean projection onto the L1 ball (Duchi et al. 2008, the sort-based algorithm),
 * vectorised over the batch: with μ the |δ| sorted in decreasing order and S_j its prefix sums,
 * ρ = #{j : j·μ_j > S_j − ε} and θ = max((S_ρ − ε)/ρ, 0); the result is sign(δ)·max(|δ| − θ, 0).
 * Examples already inside the ball get θ = 0 and are returned unchanged.
 *
 * Foolbox's SparseL1Descent projection takes θ from index ρ + 1 instead of ρ, which leaves its
 * output slightly outside the ball; this one is exact.
 */
export function projectL1(delta: Tensor, epsilon: number): Tensor {
  return torch.tidy(() => {
    const flat = delta.flatten(1);
    const d = flat.shape[1]!;
    const abs = flat.abs();
    const mu = torch.sort(abs, 1, true).values;
    const cumsum = mu.cumsum(1);
    const j = torch.arange(1, d + 1, 1, { dtype: delta.dtype, device: delta.device });
    // j·μ_j > S_j − ε rather than μ_j > (S_j − ε)/j: no division, same set; it is a prefix.
    const rho = mu.mul(j).gt(cumsum.sub(epsilon)).sum(1, true).clamp(1);
    const theta = cumsum.gather(1, rho.sub(1)).sub(epsilon).div(rho.to(delta.dtype)).clamp(0);
    return flat.sign().mul(abs.sub(theta).relu()).reshape(...delta.shape);
  });
}

/**
 * Euclidean projection onto the L0 "ball" of ⌊ε⌋ coordinates: keeps the ⌊ε⌋ entries of largest
 * magnitude of each example and zeroes the rest (ties broken by libtorch's topk).
 */
export function projectL0(delta: Tensor, epsilon: number): Tensor {
  return torch.tidy(() => {
    const flat = delta.flatten(1);
    const k = Math.floor(epsilon);
    if (k >= flat.shape[1]!) return delta.clone();
    if (k <= 0) return torch.zerosLike(delta);
    const keep = torch.topk(flat.abs(), k, 1).indices;
    return torch.zerosLike(flat).scatter(1, keep, flat.gather(1, keep)).reshape(...delta.shape);
  });
}

/** Euclidean projection of each example of `delta` onto the ε-ball of `norm` (exact for every norm). */
export function project(delta: Tensor, epsilon: number, norm: Norm): Tensor {
  switch (norm) {
    case "l0": return projectL0(delta, epsilon);
    case "l1": return projectL1(delta, epsilon);
    case "l2": return projectL2(delta, epsilon);
    case "linf": return projectLinf(delta, epsilon);
  }
}

/**
 * Foolbox's `distance.clip_perturbation(x0, x, ε)` followed by a clip to bounds: what the
 * `clipped` output of an attack is. L∞ clips elementwise, L1 and L2 rescale radially (so L1 is
 * Foolbox's rescaling, not projectL1), L0 keeps the ⌊ε⌋ largest changes (Foolbox has no L0 clip).
 * For a point inside the bounds the bound clip changes nothing: the result lies on the segment
 * from x0 to x.
 */
export function clipPerturbation(x0: Tensor, x: Tensor, epsilon: number, norm: Norm, bounds: Bounds): Tensor {
  return torch.tidy(() => {
    const delta = x.sub(x0);
    const clipped = norm === "linf" ? projectLinf(delta, epsilon)
      : norm === "l0" ? projectL0(delta, epsilon)
      : clipLpNorm(delta, epsilon, norm === "l1" ? 1 : 2);
    return clipToBounds(x0.add(clipped), bounds);
  });
}

/**
 * PyTorch's `renorm(p, dim=0, maxnorm)`: examples whose Lp norm exceeds maxnorm are multiplied by
 * maxnorm / (norm + 1e-7), others are left alone. Paper B's code projects with it (for L∞ too,
 * which rescales the whole perturbation instead of clipping it).
 */
export function renorm(delta: Tensor, p: 2 | typeof Infinity, maxnorm: number): Tensor {
  return torch.tidy(() => {
    const n = delta.flatten(1).norm(p, 1);
    const factor = torch.where(n.gt(maxnorm), n.add(1e-7).reciprocal().mul(maxnorm), torch.onesLike(n));
    return delta.mul(atleastKd(factor, delta.ndim));
  });
}

/** Foolbox's `normalize_lp_norms`: each example divided by max(‖x‖_p, 1e-12). */
export function normalizeLp(x: Tensor, p: number): Tensor {
  return torch.tidy(() => x.div(atleastKd(x.flatten(1).norm(p, 1).clamp(1e-12), x.ndim)));
}

/**
 * The step direction of Foolbox's gradient attacks for a norm: sign(g) for L∞, g/‖g‖₂ for L2 and
 * g/‖g‖₁ for L1 (Foolbox's L1 FGM/BIM/PGD; the steepest-ascent L1 direction is
 * sparseL1Direction, used by SparseL1Descent).
 */
export function normalizeGradient(g: Tensor, norm: "l1" | "l2" | "linf"): Tensor {
  return norm === "linf" ? g.sign() : normalizeLp(g, norm === "l1" ? 1 : 2);
}

/**
 * Foolbox's SparseL1Descent direction (Tramèr & Boneh 2019): zero the gradient where a step
 * would leave the bounds, keep the sign of the coordinates whose |g| is at least the per-example
 * `quantile` of |g| (numpy's linear-interpolation quantile, as Foolbox computes it), and
 * normalise to unit L1 norm. With quantile 1 it is the steepest-ascent L1 direction (one
 * coordinate, ties aside).
 */
export function sparseL1Direction(g: Tensor, x: Tensor, bounds: Bounds, quantile = 0.99): Tensor {
  if (!(quantile >= 0 && quantile <= 1)) throw new RangeError(`quantile must lie in [0, 1], got ${quantile}`);
  return torch.tidy(() => {
    const blocked = x.eq(bounds[0]).logicalAnd(g.lt(0)).logicalOr(x.eq(bounds[1]).logicalAnd(g.gt(0)));
    const grad = g.maskedFill(blocked, 0);
    const abs = grad.abs();
    const sorted = torch.sort(abs.flatten(1), 1).values;
    const pos = quantile * (sorted.shape[1]! - 1);
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    const qLo = sorted.select(1, lo);
    const q = qLo.add(sorted.select(1, hi).sub(qLo).mul(pos - lo));
    const e = grad.sign().mul(abs.ge(atleastKd(q, g.ndim)).to(g.dtype));
    return normalizeLp(e, 1);
  });
}

/**
 * A random point of the unit ball of `norm` per example, shaped like `like` (Foolbox's random
 * starts): L∞ uniform in the box; L2 uniform in the ball (Voelker et al. 2017: the first n
 * coordinates of a uniform point on the (n+1)-sphere in R^(n+2)); L1 uniform in the ball (sorted
 * uniforms' spacings with random signs). Drawn from `generator`, in `like`'s dtype and device.
 */
export function uniformBall(like: Tensor, norm: "l1" | "l2" | "linf", generator: Generator): Tensor {
  return torch.tidy(() => {
    const o = { generator, dtype: like.dtype, device: like.device };
    const [batch, n] = [like.shape[0]!, like.numel / (like.shape[0]! || 1)];
    if (norm === "linf") return torch.rand(like.shape, o).mul(2).sub(1);
    if (norm === "l2") {
      const s = torch.randn([batch, n + 2], o);
      return s.div(s.norm(2, 1, true)).narrow(1, 0, n).reshape(...like.shape);
    }
    const v = torch.sort(torch.rand([batch, n], o), 1).values;
    const spacings = v.sub(torch.cat([torch.zeros([batch, 1], o), v.narrow(1, 0, n - 1)], 1));
    const sign = torch.rand([batch, n], o).mul(2).sub(1).sign();
    return sign.mul(spacings).reshape(...like.shape);
  });
}
