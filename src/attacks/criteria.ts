// What counts as a successful attack (Foolbox's `criteria.py`), and the ways of choosing targets
// for targeted attacks. A criterion references the labels (and targets) tensors; it does not own
// them: they live in whatever scope created them.
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";
import type { AttackModel } from "../nn/attack-model.js";

function checkClasses(t: Tensor, what: string): void {
  if (!(t instanceof torch.Tensor)) throw new TypeError(`${what}: expected an int64 Tensor of class indices`);
  if (t.dtype !== "int64" || t.ndim !== 1) {
    throw new TypeError(`${what}: expected an int64 tensor of shape [N], got ${t.dtype}[${t.shape.join(", ")}]`);
  }
}

export abstract class Criterion {
  /** The true classes, int64 [N]: every criterion carries them so that clean correctness can be reported. */
  readonly labels: Tensor;
  constructor(labels: Tensor) {
    checkClasses(labels, "labels");
    this.labels = labels;
  }
  abstract readonly targeted: boolean;
  /**
   * The classes whose cross-entropy a gradient attack ascends (untargeted: the labels) or
   * descends (targeted: the targets), as in Foolbox's BaseGradientDescent.
   */
  abstract readonly classes: Tensor;
  /** bool [N]: the criterion holds for these logits. */
  abstract isAdversarial(logits: Tensor): Tensor;

  /** bool [N]: argmax of the logits is the label. */
  isCorrect(logits: Tensor): Tensor {
    return torch.tidy(() => logits.argmax(1).eq(this.labels));
  }

  /** Throws unless the criterion has one entry per input (N = inputs' first dim). */
  checkBatch(inputs: Tensor): void {
    const n = inputs.shape[0];
    if (this.labels.shape[0] !== n) throw new RangeError(`criterion: ${this.labels.shape[0]} labels for ${n} inputs`);
  }
}

/** Success ⇔ argmax(logits) ≠ label. Clean inputs already misclassified count as successes (Foolbox). */
export class Misclassification extends Criterion {
  readonly targeted = false;
  get classes(): Tensor {
    return this.labels;
  }
  isAdversarial(logits: Tensor): Tensor {
    return torch.tidy(() => logits.argmax(1).ne(this.labels));
  }
}

/** Success ⇔ argmax(logits) = target. */
export class TargetedMisclassification extends Criterion {
  readonly targeted = true;
  readonly targets: Tensor;
  constructor(labels: Tensor, targets: Tensor) {
    super(labels);
    checkClasses(targets, "targets");
    if (targets.shape[0] !== labels.shape[0]) throw new RangeError(`targets: ${targets.shape[0]} targets for ${labels.shape[0]} labels`);
    this.targets = targets;
  }
  get classes(): Tensor {
    return this.targets;
  }
  isAdversarial(logits: Tensor): Tensor {
    return torch.tidy(() => logits.argmax(1).eq(this.targets));
  }
}

export const misclassification = (labels: Tensor): Misclassification => new Misclassification(labels);

/** Targeted misclassification toward given classes. */
export const targeted = (labels: Tensor, targets: Tensor): TargetedMisclassification => new TargetedMisclassification(labels, targets);

/** s mod c for int64 s in [0, 2c) (the engine has no remainder op; this needs none). */
const wrap = (s: Tensor, c: number): Tensor => torch.tidy(() => torch.where(s.ge(c), s.sub(c), s));

function checkNumClasses(numClasses: number): void {
  if (!(Number.isInteger(numClasses) && numClasses >= 2)) throw new RangeError(`numClasses: expected an integer ≥ 2, got ${numClasses}`);
}

/** Targets drawn uniformly from the classes other than the label, from a generator seeded with `seed`. */
export function randomTargets(labels: Tensor, numClasses: number, seed: number): TargetedMisclassification {
  checkClasses(labels, "labels");
  checkNumClasses(numClasses);
  const g = new torch.Generator(seed);
  try {
    const targets = torch.tidy(() => {
      const shift = torch.randint(1, numClasses, labels.shape, { generator: g, device: labels.device });
      return wrap(labels.add(shift), numClasses);
    });
    return new TargetedMisclassification(labels, targets);
  } finally {
    g.dispose();
  }
}

/** (y + 1) mod C: the deterministic targets of Ilyas et al.'s D_det. */
export function nextClassTargets(labels: Tensor, numClasses: number): TargetedMisclassification {
  checkClasses(labels, "labels");
  checkNumClasses(numClasses);
  return new TargetedMisclassification(labels, torch.tidy(() => wrap(labels.add(1), numClasses)));
}

/** The class with the lowest clean logit (torchattacks' least-likely mode), in eval mode. */
export function leastLikelyTargets(model: AttackModel, inputs: Tensor, labels: Tensor): TargetedMisclassification {
  const targets = torch.tidy(() => torch.noGrad(() => model.logits(inputs).argmin(1)));
  return new TargetedMisclassification(labels, targets);
}

/** How targeted attacks choose their targets; "none" is untargeted. */
export type TargetMode = "none" | "random" | "least-likely" | "next";
export const TARGET_MODES: readonly TargetMode[] = ["none", "random", "least-likely", "next"];

/**
 * The criterion of a batch for a target mode: the labels themselves (untargeted), random other
 * classes (seeded), the next class (y + 1) mod C, or the clean input's least likely class.
 */
export function criterionFor(mode: TargetMode, model: AttackModel, x: Tensor, y: Tensor, classes: number, seed: number): CriterionLike {
  switch (mode) {
    case "none": return y;
    case "random": return randomTargets(y, classes, seed);
    case "next": return nextClassTargets(y, classes);
    case "least-likely": return leastLikelyTargets(model, x, y);
  }
}

/** A criterion as given to an attack: a Criterion, or labels (wrapped as Misclassification, as Foolbox does). */
export type CriterionLike = Criterion | Tensor;

export const asCriterion = (c: CriterionLike): Criterion => (c instanceof Criterion ? c : new Misclassification(c));
