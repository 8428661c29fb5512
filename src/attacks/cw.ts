// Carlini & Wagner's L2 attack (2017) with Foolbox 3.3.4's loop (`attacks/carlini_wagner.py`):
// in tanh space (x = a + b·tanh(w) always lies in the bounds), Adam minimises
// ‖x − x₀‖² + c·max(0, margin + confidence) per example, and a per-example binary search over c
// (exponential until a first success) keeps the closest adversarial seen.
import * as F from "../torch/functional.js";
import * as torch from "../torch/index.js";
import { adamStep_ } from "../torch/optim-step.js";
import type { Tensor } from "../torch/index.js";
import type { Criterion } from "./criteria.js";
import { logitMargin } from "./fmn.js";
import { atleastKd, norms } from "./norms.js";
import { advance, MinimizationAttack, type MinimizeContext } from "./types.js";

export interface CarliniWagnerOptions {
  /** Values of c tried per example (default 9). */
  readonly binarySearchSteps?: number;
  /** Adam steps per value of c (default 10,000). */
  readonly steps?: number;
  /** Adam's learning rate, in tanh space (default 0.01). */
  readonly stepsize?: number;
  /** Margin by which the adversarial class must win (default 0). */
  readonly confidence?: number;
  /** The first c (default 0.001). */
  readonly initialConst?: number;
  /** Stop Adam when the batch's loss has not dropped by 0.01 % over a tenth of the steps (default true). */
  readonly abortEarly?: boolean;
}

/** The criterion on logits shifted by the confidence (Foolbox: the true class needs `confidence` more to lose). */
function isAdversarialWithConfidence(criterion: Criterion, logits: Tensor, confidence: number): Tensor {
  if (confidence === 0) return criterion.isAdversarial(logits);
  return torch.tidy(() => {
    const shift = F.oneHot(criterion.classes, logits.shape[1]!).to(logits.dtype).mul(criterion.targeted ? -confidence : confidence);
    return criterion.isAdversarial(logits.add(shift));
  });
}

export class CarliniWagnerL2 extends MinimizationAttack {
  readonly distance = "l2" as const;
  readonly binarySearchSteps: number;
  readonly steps: number;
  readonly stepsize: number;
  readonly confidence: number;
  readonly initialConst: number;
  readonly abortEarly: boolean;

  constructor(options: CarliniWagnerOptions = {}) {
    super();
    this.binarySearchSteps = options.binarySearchSteps ?? 9;
    this.steps = options.steps ?? 10000;
    this.stepsize = options.stepsize ?? 0.01;
    this.confidence = options.confidence ?? 0;
    this.initialConst = options.initialConst ?? 1e-3;
    this.abortEarly = options.abortEarly ?? true;
    for (const [k, v] of [["binarySearchSteps", this.binarySearchSteps], ["steps", this.steps]] as const) {
      if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`${k}: expected an integer ≥ 1, got ${v}`);
    }
    for (const [k, v] of [["stepsize", this.stepsize], ["initialConst", this.initialConst]] as const) {
      if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${k}: expected a positive number, got ${v}`);
    }
    if (!(Number.isFinite(this.confidence) && this.confidence >= 0)) throw new RangeError(`confidence: expected a number ≥ 0, got ${this.confidence}`);
  }

  get name(): string {
    return `Carlini-Wagner l2 (${this.binarySearchSteps} binary search steps × ${this.steps} Adam steps, stepsize ${this.stepsize}, ` +
      `confidence ${this.confidence}, initial const ${this.initialConst}${this.abortEarly ? ", abort early" : ""})`;
  }

  protected minimize({ model, inputs: x0, criterion }: MinimizeContext): Tensor {
    const [lo, hi] = model.finiteBounds("Carlini-Wagner");
    const [a, b] = [(lo + hi) / 2, (hi - lo) / 2];
    const n = x0.shape[0]!;
    const kd = (t: Tensor) => atleastKd(t, x0.ndim);
    // atanh(u) = (log1p(u) − log1p(−u)) / 2; the factor keeps inputs on the bounds finite.
    const wAtt = torch.tidy(() => {
      const u = x0.sub(a).div(b).mul(0.999999);
      return u.log1p().sub(u.neg().log1p()).mul(0.5);
    });
    const x0Rec = torch.tidy(() => wAtt.tanh().mul(b).add(a));
    // Bookkeeping of c in float64, as Foolbox's NumPy arrays; cast to the inputs' dtype in the loss.
    const f64 = { dtype: "float64" as const, device: x0.device };
    let search = {
      consts: torch.full([n], this.initialConst, f64),
      lower: torch.zeros([n], f64),
      upper: torch.full([n], Infinity, f64),
      // Foolbox starts from zeros; the input is the honest "nothing found" (norm 0, criterion as clean).
      bestAdv: x0,
      bestNorm: torch.full([n], Infinity, { dtype: x0.dtype, device: x0.device }),
    };
    const checkEvery = Math.ceil(this.steps / 10);
    for (let bs = 0; bs < this.binarySearchSteps; bs++) {
      if (bs === this.binarySearchSteps - 1 && this.binarySearchSteps >= 10) {
        // Foolbox: with 10 or more steps, the last one retries the smallest successful c.
        const last = torch.tidy(() => torch.minimum(search.upper, torch.fullLike(search.upper, 1e10)));
        search.consts.dispose();
        search = { ...search, consts: last };
      }
      const consts = torch.tidy(() => search.consts.to(x0.dtype));
      // Adam on the perturbation in tanh space, with fresh moments for each c (Foolbox).
      const delta = torch.zerosLike(wAtt);
      const [expAvg, expAvgSq] = [torch.zerosLike(wAtt), torch.zerosLike(wAtt)];
      const hyper = { lr: this.stepsize, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };
      const lossFn = (logits: Tensor, x: Tensor) => {
        const hinge = logitMargin(logits, criterion).add(this.confidence).relu().mul(consts);
        return hinge.add(x.sub(x0Rec).flatten(1).square().sum(1));
      };
      let inner = { found: torch.zeros([n], { dtype: "bool", device: x0.device }), bestAdv: search.bestAdv, bestNorm: search.bestNorm };
      let previousLoss = Infinity;
      for (let step = 0; step < this.steps; step++) {
        let aborted = false;
        inner = advance(inner, (s) => {
          const t = wAtt.add(delta).tanh();
          const x = t.mul(b).add(a);
          const { loss, logits, grad } = model.valueAndGrad(x, lossFn);
          // Chain rule through x = a + b·tanh(w): dx/dw = b·(1 − tanh²).
          const dw = grad.mul(t.square().neg().add(1).mul(b));
          torch.noGrad(() => adamStep_([delta], [dw], [expAvg], [expAvgSq], step + 1, hyper));
          if (this.abortEarly && step % checkEvery === 0) {
            const total = loss.sum().item();
            if (!(total <= 0.9999 * previousLoss)) {
              aborted = true;
              return s;
            }
            previousLoss = total;
          }
          const foundNow = isAdversarialWithConfidence(criterion, logits, this.confidence);
          const distance = norms(x.sub(x0), "l2");
          const closer = distance.lt(s.bestNorm).logicalAnd(foundNow);
          return {
            found: s.found.logicalOr(foundNow),
            bestAdv: torch.where(kd(closer), x, s.bestAdv),
            bestNorm: torch.where(closer, distance, s.bestNorm),
          };
        }, [x0]);
        if (aborted) break;
      }
      torch.dispose([consts, delta, expAvg, expAvgSq]);
      const next = torch.tidy(() => {
        const upper = torch.where(inner.found, search.consts, search.upper);
        const lower = torch.where(inner.found, search.lower, search.consts);
        const consts = torch.where(upper.eq(Infinity), search.consts.mul(10), lower.add(upper).div(2));
        return { consts, lower, upper };
      });
      // The inner loop already freed the bests it replaced.
      torch.dispose([search.consts, search.lower, search.upper, inner.found]);
      search = { ...next, bestAdv: inner.bestAdv, bestNorm: inner.bestNorm };
    }
    const { bestAdv } = search;
    torch.dispose([search.consts, search.lower, search.upper, search.bestNorm, wAtt, x0Rec]);
    return bestAdv === x0 ? x0.clone() : bestAdv;
  }
}
