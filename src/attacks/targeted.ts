// Paper B's targeted PGD, code-exact (Kumano et al.'s utils/attacks.py): start at
// the input, descend the target's loss for a fixed number of steps, and return per example the
// iterate (start included) with the lowest target loss.
//   L2: x ← x − (ε/5)·g/‖g‖₂, δ ← renorm(δ, p=2, ε), clip to bounds.
//   L∞: x ← x − (ε/5)·g/‖g‖∞ (not a sign step), δ ← renorm(δ, p=∞, ε), which rescales the whole
//       δ instead of clipping it elementwise (the "clip" option is B-5's alternative), clip to bounds.
//   L0: ε = the number of coordinates d_δ = the number of steps; each step adds the unchanged
//       coordinate of largest |g|, then moves every chosen one by 0.3·g_S/‖g_S‖∞, clip to bounds.
import * as F from "../torch/functional.js";
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";
import { TargetedMisclassification } from "./criteria.js";
import type { AttackModel } from "../nn/attack-model.js";
import { atleastKd, clipToBounds, normalizeLp, projectLinf, renorm } from "./norms.js";
import { advance, FixedEpsilonAttack, type PerturbContext } from "./types.js";

export type PaperBNorm = "l0" | "l2" | "linf";

export interface PaperBOptions {
  /** Iterations for L2 and L∞ (default 100, B's setting); L0 always takes ε steps. */
  readonly steps?: number;
  /** Default ε/5 for L2 and L∞, 0.3 for L0. */
  readonly stepsize?: number;
  /**
   * "ce": cross-entropy to the target (B's multiclass loss); "exp": exp(−(z_t − z_other)), which
   * is B's exp(−y_t·f(x)) for a binary margin model; "auto" (default): exp for models with one
   * output per example (see AttackModel), ce otherwise.
   */
  readonly loss?: "auto" | "ce" | "exp";
  /** L∞ projection: "rescale" (B's renorm, default) or "clip" (elementwise, B-5's alternative). */
  readonly linfProjection?: "rescale" | "clip";
}

type State = { x: Tensor; best?: Tensor; bestLoss?: Tensor; mask?: Tensor };

export class PaperBTargetedPGD extends FixedEpsilonAttack {
  readonly distance: PaperBNorm;
  readonly steps: number;
  readonly stepsize: number | undefined;
  readonly loss: "auto" | "ce" | "exp";
  readonly linfProjection: "rescale" | "clip";

  constructor(norm: PaperBNorm, options: PaperBOptions = {}) {
    super();
    if (norm !== "l0" && norm !== "l2" && norm !== "linf") throw new RangeError(`norm: expected "l0", "l2" or "linf", got ${JSON.stringify(norm)}`);
    const { steps = 100, stepsize, loss = "auto", linfProjection = "rescale" } = options;
    if (norm === "l0" && options.steps !== undefined) throw new RangeError("steps: the L0 attack takes ε steps (one new coordinate each)");
    if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`steps: expected an integer ≥ 1, got ${steps}`);
    if (stepsize !== undefined && !(Number.isFinite(stepsize) && stepsize > 0)) throw new RangeError(`stepsize: expected a positive number, got ${stepsize}`);
    if (!["auto", "ce", "exp"].includes(loss)) throw new RangeError(`loss: expected "auto", "ce" or "exp", got ${JSON.stringify(loss)}`);
    if (linfProjection !== "rescale" && linfProjection !== "clip") throw new RangeError(`linfProjection: expected "rescale" or "clip", got ${JSON.stringify(linfProjection)}`);
    this.distance = norm;
    this.steps = steps;
    this.stepsize = stepsize;
    this.loss = loss;
    this.linfProjection = linfProjection;
  }

  get name(): string {
    const step = this.stepsize ?? (this.distance === "l0" ? 0.3 : "ε/5");
    const steps = this.distance === "l0" ? "ε steps" : `${this.steps} steps`;
    return `paper B targeted PGD ${this.distance} (${steps}, step ${step}, loss ${this.loss}${this.distance === "linf" ? `, ${this.linfProjection}` : ""})`;
  }

  /** Per-example target loss [N]. */
  #lossFn(model: AttackModel, targets: Tensor): (logits: Tensor) => Tensor {
    return (logits) => {
      const exp = this.loss === "exp" || (this.loss === "auto" && model.marginOutput === true);
      if (!exp) return F.crossEntropy(logits, targets, { reduction: "none" });
      if (logits.shape[1] !== 2) throw new RangeError(`loss "exp" needs a binary model (2 logits or one margin), got ${logits.shape[1]} logits`);
      const t = targets.unsqueeze(1);
      return logits.gather(1, t).sub(logits.gather(1, t.neg().add(1))).neg().exp().reshape(-1);
    };
  }

  protected perturb({ model, inputs: x0, criterion, epsilon }: PerturbContext): Tensor {
    if (!(criterion instanceof TargetedMisclassification)) {
      throw new TypeError("paper B's attack is targeted: pass a TargetedMisclassification criterion (e.g. targeted(labels, targets))");
    }
    const l0 = this.distance === "l0";
    if (l0 && !Number.isInteger(epsilon)) throw new RangeError(`L0: ε is the number of coordinates to change, an integer; got ${epsilon}`);
    const steps = l0 ? epsilon : this.steps;
    const stepsize = this.stepsize ?? (l0 ? 0.3 : epsilon / 5);
    const lossFn = this.#lossFn(model, criterion.targets);
    const kd = (t: Tensor) => atleastKd(t, x0.ndim);
    const track = (s: State, loss: Tensor): Pick<State, "best" | "bestLoss"> => {
      if (!s.best || !s.bestLoss) return { best: s.x, bestLoss: loss };
      const better = loss.lt(s.bestLoss);
      return { best: torch.where(kd(better), s.x, s.best), bestLoss: torch.where(better, loss, s.bestLoss) };
    };
    let state: State = { x: x0, ...(l0 ? { mask: torch.zeros([x0.shape[0]!, x0.numel / x0.shape[0]!], { dtype: x0.dtype, device: x0.device }) } : {}) };
    for (let i = 0; i < steps; i++) {
      state = advance(state, (s) => {
        const { loss, grad } = model.valueAndGrad(s.x, lossFn);
        const next: State = { ...s, ...track(s, loss) };
        if (l0) {
          const g = grad.flatten(1);
          const fresh = g.abs().maskedFill(s.mask!.gt(0), -1).argmax(1, true);
          next.mask = s.mask!.scatter(1, fresh, 1);
          const step = normalizeLp(g.mul(next.mask), Infinity).reshape(...x0.shape).mul(stepsize);
          next.x = clipToBounds(s.x.sub(step), model.bounds);
        } else {
          const moved = s.x.sub(normalizeLp(grad, this.distance === "l2" ? 2 : Infinity).mul(stepsize));
          const delta = moved.sub(x0);
          const projected = this.distance === "linf" && this.linfProjection === "clip"
            ? projectLinf(delta, epsilon)
            : renorm(delta, this.distance === "l2" ? 2 : Infinity, epsilon);
          next.x = clipToBounds(x0.add(projected), model.bounds);
        }
        return next;
      }, [x0]);
    }
    return torch.noGrad(() => track(state, lossFn(model.logits(state.x))).best!.clone());
  }
}
