// DeepFool (Moosavi-Dezfooli et al. 2016) in L2 and L∞, with Foolbox 3.3.4's loop
// (`attacks/deepfool.py`): linearise the logit differences between the clean top class and the
// next candidates, step to the nearest linearised boundary, repeat until adversarial.
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";
import type { Criterion } from "./criteria.js";
import type { AttackModel } from "../nn/attack-model.js";
import { atleastKd, clipToBounds } from "./norms.js";
import { advance, MinimizationAttack, type MinimizeContext } from "./types.js";

export interface DeepFoolOptions {
  /** Maximum number of linearisation steps (default 50). */
  readonly steps?: number;
  /** How many of the clean input's top classes are candidates, the top one included (default 10; null = all). */
  readonly candidates?: number | null;
  /** Each step goes to (1 + overshoot) × the accumulated perturbation (default 0.02). */
  readonly overshoot?: number;
  /**
   * "logits" (default) linearises logit differences, "crossentropy" differences of log-softmax,
   * as Foolbox. The two differ only in rounding: log-softmax differences are logit differences.
   */
  readonly loss?: "logits" | "crossentropy";
}

interface Linearised {
  /** The clean-class-relative score of each candidate k ≥ 1: s_k − s_0, [N, K−1]. */
  readonly losses: Tensor;
  /** Their input gradients, [N, K−1, …input dims]. */
  readonly grads: Tensor;
}

/**
 * DeepFool's minimisation loop; subclasses give the distance to a linearised boundary and the
 * step that reaches it (Foolbox's get_distances and get_perturbations).
 */
export abstract class DeepFoolAttack extends MinimizationAttack {
  readonly steps: number;
  readonly candidates: number | null;
  readonly overshoot: number;
  readonly loss: "logits" | "crossentropy";

  constructor(options: DeepFoolOptions = {}) {
    super();
    this.steps = options.steps ?? 50;
    this.candidates = options.candidates === undefined ? 10 : options.candidates;
    this.overshoot = options.overshoot ?? 0.02;
    this.loss = options.loss ?? "logits";
    if (!(Number.isInteger(this.steps) && this.steps >= 1)) throw new RangeError(`steps: expected an integer ≥ 1, got ${this.steps}`);
    if (this.candidates !== null && !(Number.isInteger(this.candidates) && this.candidates >= 2)) {
      throw new RangeError(`candidates: expected an integer ≥ 2 or null, got ${this.candidates}`);
    }
    if (!(Number.isFinite(this.overshoot) && this.overshoot >= 0)) throw new RangeError(`overshoot: expected a number ≥ 0, got ${this.overshoot}`);
    if (this.loss !== "logits" && this.loss !== "crossentropy") throw new RangeError(`loss: expected "logits" or "crossentropy", got ${JSON.stringify(this.loss)}`);
  }

  get name(): string {
    return `DeepFool ${this.distance} (${this.steps} steps, ${this.candidates ?? "all"} candidates, overshoot ${this.overshoot}, ${this.loss})`;
  }

  /** Distance from x to each candidate's linearised boundary, [N, K−1]. */
  protected abstract distances(losses: Tensor, grads: Tensor): Tensor;
  /** The step of length `distance` (per example, [N]) toward the boundary whose gradient is grad. */
  protected abstract perturbation(distance: Tensor, grad: Tensor): Tensor;

  protected minimize({ model, inputs: x0, criterion }: MinimizeContext): Tensor {
    // The step ignores the criterion's classes: a targeted criterion would only make the loop run out of steps.
    if (criterion.targeted) throw new TypeError(`${this.name}: DeepFool is untargeted; use a Misclassification criterion (or labels)`);
    const classes = torch.tidy(() => torch.noGrad(() => {
      const logits = model.logits(x0);
      const k = Math.min(this.candidates ?? logits.shape[1]!, logits.shape[1]!);
      if (k < 2) throw new RangeError(`${this.name}: the model has ${logits.shape[1]} output, DeepFool needs at least 2 classes`);
      return torch.topk(logits, k, 1).indices;
    }));
    const scale = 1 + this.overshoot;
    let state = { x: x0, pTotal: torch.zerosLike(x0), classes };
    let done = false;
    for (let i = 0; i < this.steps && !done; i++) {
      state = advance(state, (s) => {
        const { isAdv, linearise } = linearisedScores(model, s.x, s.classes, this.loss, criterion);
        if (torch.all(isAdv).item()) {
          done = true;
          return s;
        }
        const { losses, grads } = linearise();
        const distances = this.distances(losses, grads);
        const best = distances.argmin(1, true);
        const flat = grads.flatten(2);
        const grad = flat.gather(1, best.unsqueeze(2).expand(flat.shape[0]!, 1, flat.shape[2]!)).reshape(...x0.shape);
        // Foolbox's 1e-4: lands a little past the boundary even without overshoot.
        const pStep = this.perturbation(distances.gather(1, best).squeeze(1).add(1e-4), grad);
        const pTotal = s.pTotal.add(pStep);
        // Examples already adversarial stay where they are.
        const x = torch.where(atleastKd(isAdv, x0.ndim), s.x, clipToBounds(x0.add(pTotal.mul(scale)), model.bounds));
        return { x, pTotal, classes: s.classes };
      }, [x0]);
    }
    torch.dispose([state.pTotal, state.classes]);
    // A fresh tensor even when nothing moved: the result must not alias the caller's inputs.
    return state.x === x0 ? x0.clone() : state.x;
  }
}

/**
 * One forward pass at x, then (on demand, so that a finished batch costs no backward pass) one
 * backward pass per candidate through the same graph: cheaper than Foolbox's forward per candidate.
 */
function linearisedScores(
  model: AttackModel, x: Tensor, classes: Tensor, loss: "logits" | "crossentropy", criterion: Criterion,
): { isAdv: Tensor; linearise: () => Linearised } {
  return model.attacking(() => torch.enableGrad(() => {
    const xg = x.detach().requiresGrad_(true);
    const logits = model.logits(xg);
    const isAdv = torch.noGrad(() => criterion.isAdversarial(logits));
    const linearise = (): Linearised => model.attacking(() => torch.enableGrad(() => {
      const scores = (loss === "logits" ? logits : logits.logSoftmax(1)).gather(1, classes);
      const k = classes.shape[1]! - 1;
      const diffs = scores.narrow(1, 1, k).sub(scores.narrow(1, 0, 1));
      const grads = Array.from({ length: k }, (_, j) =>
        torch.autograd.grad(diffs.select(1, j).sum(), [xg], { retainGraph: j < k - 1 })[0]!);
      return { losses: diffs.detach(), grads: torch.stack(grads, 1) };
    }));
    return { isAdv, linearise };
  }));
}

/** DeepFool L2: distance |Δs| / ‖Δ∇‖₂, step along Δ∇. */
export class L2DeepFool extends DeepFoolAttack {
  readonly distance = "l2" as const;
  protected distances(losses: Tensor, grads: Tensor): Tensor {
    return losses.abs().div(grads.flatten(2).norm(2, 2).add(1e-8));
  }
  protected perturbation(distance: Tensor, grad: Tensor): Tensor {
    return grad.mul(atleastKd(distance.div(grad.flatten(1).norm(2, 1).add(1e-8)), grad.ndim));
  }
}

/** DeepFool L∞: distance |Δs| / ‖Δ∇‖₁, step along sign(Δ∇). */
export class LinfDeepFool extends DeepFoolAttack {
  readonly distance = "linf" as const;
  protected distances(losses: Tensor, grads: Tensor): Tensor {
    return losses.abs().div(grads.flatten(2).norm(1, 2).add(1e-8));
  }
  protected perturbation(distance: Tensor, grad: Tensor): Tensor {
    return grad.sign().mul(atleastKd(distance, grad.ndim));
  }
}
