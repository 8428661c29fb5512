// Fixed-ε gradient attacks: FGM/FGSM, BIM and PGD in L1, L2 and L∞, and SparseL1Descent, with
// Foolbox 3.3.4's loop (`gradient_descent_base.py`):
//   x ← clip_bounds(x0 + ε·U(ball)) if random start, else x0
//   repeat steps: x ← clip_bounds(x0 + P_ε(x ± stepsize·normalize(∇ Σ CE(logits(x), classes)) − x0))
// returning the last iterate; + ascends the labels' loss, − descends the targets' (targeted).
// Presets give other libraries' step rules; best-iterate and per-example early stop are options,
// off by default (evaluation should report the strongest fixed-budget attack, not stop early).
import * as F from "../torch/functional.js";
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";
import {
  atleastKd, clipLpNorm, clipToBounds, normalizeGradient, projectL1, projectLinf, sparseL1Direction, uniformBall, type Bounds,
} from "./norms.js";
import { advance, FixedEpsilonAttack, type PerturbContext } from "./types.js";

/** The norms gradient attacks are defined for. */
export type GradientNorm = "l1" | "l2" | "linf";
export type Family = "fgm" | "bim" | "pgd";

/**
 * Step rules of other libraries, by attack family and norm (each library's documented defaults):
 * - `foolbox`: Foolbox 3.3.4's defaults (the default preset).
 * - `foolbox-native-2020`: paper A's code, `foolbox.ext.native` PGD (L∞ only): absolute step
 *   0.01, 1000 steps, random start, last iterate.
 * - `madry`: Madry et al. 2018's CIFAR-10 PGD (L∞ only): step ε/4, 7 steps, random start, last
 *   iterate. (MadryLab's `robustness` library instead defaults to use_best and no random start:
 *   pass bestIterate: true, randomStart: false for that.)
 * - `torchattacks`: torchattacks 3.5.1: PGD L∞ absolute step 2/255, PGDL2 0.2, 10 steps, random
 *   start; BIM L∞ 2/255, 10 steps; FGSM.
 */
export type Preset = "foolbox" | "foolbox-native-2020" | "madry" | "torchattacks";
export const PRESETS: readonly Preset[] = ["foolbox", "foolbox-native-2020", "madry", "torchattacks"];

interface Settings {
  readonly steps: number;
  readonly relStepsize?: number;
  readonly absStepsize?: number;
  readonly randomStart: boolean;
}

const allNorms = (s: Settings): Partial<Record<GradientNorm, Settings>> => ({ l1: s, l2: s, linf: s });
const TABLE: Record<Family, Partial<Record<Preset, Partial<Record<GradientNorm, Settings>>>>> = {
  fgm: {
    foolbox: allNorms({ relStepsize: 1, steps: 1, randomStart: false }),
    torchattacks: { linf: { relStepsize: 1, steps: 1, randomStart: false } },
  },
  bim: {
    foolbox: allNorms({ relStepsize: 0.2, steps: 10, randomStart: false }),
    torchattacks: { linf: { absStepsize: 2 / 255, steps: 10, randomStart: false } },
  },
  pgd: {
    foolbox: {
      linf: { relStepsize: 0.01 / 0.3, steps: 40, randomStart: true },
      l2: { relStepsize: 0.025, steps: 50, randomStart: true },
      l1: { relStepsize: 0.025, steps: 50, randomStart: true },
    },
    "foolbox-native-2020": { linf: { absStepsize: 0.01, steps: 1000, randomStart: true } },
    madry: { linf: { relStepsize: 0.25, steps: 7, randomStart: true } },
    torchattacks: {
      linf: { absStepsize: 2 / 255, steps: 10, randomStart: true },
      l2: { absStepsize: 0.2, steps: 10, randomStart: true },
    },
  },
};

export interface GradientAttackOptions {
  /** Whose defaults to start from (default "foolbox"); the options below override them. */
  readonly preset?: Preset;
  readonly steps?: number;
  /** Step size as a fraction of ε (Foolbox's rel_stepsize). */
  readonly relStepsize?: number;
  /** Step size in input units; takes precedence over relStepsize (Foolbox's abs_stepsize). */
  readonly absStepsize?: number;
  /** Start from a uniform point of the ε-ball (clipped to bounds) instead of the input. */
  readonly randomStart?: boolean;
  /**
   * Return, per example, the iterate (start included) with the highest attack loss (lowest
   * target loss when targeted) instead of the last one, as MadryLab's use_best. Costs one more
   * forward pass. Default false (Foolbox returns the last iterate).
   */
  readonly bestIterate?: boolean;
  /** Freeze each example at the first iterate where the criterion holds. Default false. */
  readonly earlyStop?: boolean;
}

/** The settings an attack runs with, every preset value and override resolved. */
export interface GradientAttackConfig extends Settings {
  readonly preset: Preset;
  readonly bestIterate: boolean;
  readonly earlyStop: boolean;
}

function resolve(family: Family, norm: GradientNorm, o: GradientAttackOptions): GradientAttackConfig {
  const preset = o.preset ?? "foolbox";
  if (!PRESETS.includes(preset)) throw new RangeError(`preset: expected one of ${PRESETS.join(", ")}, got ${JSON.stringify(preset)}`);
  const base = TABLE[family][preset]?.[norm];
  if (!base) {
    const defined = (Object.keys(TABLE[family]) as Preset[]).flatMap((p) => Object.keys(TABLE[family][p]!).map((n) => `${p} (${n})`));
    throw new RangeError(`preset '${preset}' defines no ${family.toUpperCase()} ${norm}; defined: ${defined.join(", ")}`);
  }
  const steps = o.steps ?? base.steps;
  if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`steps: expected an integer ≥ 1, got ${steps}`);
  for (const [k, v] of [["relStepsize", o.relStepsize], ["absStepsize", o.absStepsize]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new RangeError(`${k}: expected a positive number, got ${v}`);
  }
  // An explicit relative step replaces a preset's absolute one; an explicit absolute step wins over both.
  const absStepsize = o.absStepsize ?? (o.relStepsize === undefined ? base.absStepsize : undefined);
  const relStepsize = absStepsize === undefined ? (o.relStepsize ?? base.relStepsize) : undefined;
  return Object.freeze({
    preset, steps, relStepsize, absStepsize,
    randomStart: o.randomStart ?? base.randomStart,
    bestIterate: o.bestIterate ?? false,
    earlyStop: o.earlyStop ?? false,
  });
}

function checkNorm(norm: unknown): GradientNorm {
  if (norm !== "l1" && norm !== "l2" && norm !== "linf") throw new RangeError(`norm: expected "l1", "l2" or "linf", got ${JSON.stringify(norm)}`);
  return norm;
}

type LoopState = { x: Tensor; best?: Tensor; bestObjective?: Tensor; done?: Tensor };

/** The shared loop; subclasses fix the family and may change the direction and projection (SparseL1Descent). */
export abstract class GradientDescentAttack extends FixedEpsilonAttack {
  readonly distance: GradientNorm;
  readonly config: GradientAttackConfig;
  readonly #family: Family;

  protected constructor(family: Family, norm: GradientNorm, options: GradientAttackOptions) {
    super();
    this.#family = family;
    this.distance = checkNorm(norm);
    this.config = resolve(family, this.distance, options);
  }

  get name(): string {
    const c = this.config;
    const step = c.absStepsize !== undefined ? `abs step ${+c.absStepsize.toPrecision(6)}` : `step ${+c.relStepsize!.toPrecision(6)}·ε`;
    const extras = [c.randomStart && "random start", c.bestIterate && "best iterate", c.earlyStop && "early stop"].filter(Boolean);
    return `${this.#family.toUpperCase()} ${this.distance} (${c.preset}: ${c.steps} steps, ${step}${extras.length ? `, ${extras.join(", ")}` : ""})`;
  }

  /** The step size used at ε (printed by tools so that runs state the resolved value). */
  stepsize(epsilon: number): number {
    return this.config.absStepsize ?? this.config.relStepsize! * epsilon;
  }

  protected direction(grad: Tensor, _x: Tensor, _bounds: Bounds): Tensor {
    return normalizeGradient(grad, this.distance);
  }

  /** Pulls δ back into the ε-ball: Foolbox's clip for L∞, radial rescale for L1 and L2. */
  protected project(delta: Tensor, epsilon: number): Tensor {
    return this.distance === "linf" ? projectLinf(delta, epsilon) : clipLpNorm(delta, epsilon, this.distance === "l1" ? 1 : 2);
  }

  protected perturb({ model, inputs: x0, criterion, epsilon, generator }: PerturbContext): Tensor {
    const c = this.config;
    const stepsize = this.stepsize(epsilon);
    const ascent = criterion.targeted ? -1 : 1;
    const classes = criterion.classes;
    const bounds = model.bounds;
    const lossFn = (logits: Tensor) => F.crossEntropy(logits, classes, { reduction: "none" });
    const kd = (t: Tensor) => atleastKd(t, x0.ndim);
    let state: LoopState = {
      x: c.randomStart ? torch.tidy(() => clipToBounds(x0.add(uniformBall(x0, this.distance, generator).mul(epsilon)), bounds)) : x0,
    };
    // The attack's objective per example (higher = better for the attacker) and the iterate it was seen at.
    const track = (s: LoopState, objective: Tensor): Pick<LoopState, "best" | "bestObjective"> => {
      if (!s.best || !s.bestObjective) return { best: s.x, bestObjective: objective };
      const better = objective.gt(s.bestObjective);
      return { best: torch.where(kd(better), s.x, s.best), bestObjective: torch.where(better, objective, s.bestObjective) };
    };
    for (let i = 0; i < c.steps; i++) {
      state = advance(state, (s) => {
        const { loss, logits, grad } = model.valueAndGrad(s.x, lossFn);
        const next: LoopState = { ...s, ...(c.bestIterate ? track(s, loss.mul(ascent)) : {}) };
        const step = this.direction(grad, s.x, bounds).mul(ascent * stepsize);
        next.x = clipToBounds(x0.add(this.project(s.x.add(step).sub(x0), epsilon)), bounds);
        if (c.earlyStop) {
          next.done = s.done ? s.done.logicalOr(criterion.isAdversarial(logits)) : criterion.isAdversarial(logits);
          // where(), not a zeroed step: x0 + (x − x0) need not round back to x exactly.
          next.x = torch.where(kd(next.done), s.x, next.x);
        }
        return next;
      }, [x0]);
    }
    if (!c.bestIterate) return state.x;
    return torch.noGrad(() => {
      const objective = lossFn(model.logits(state.x)).mul(ascent);
      return track(state, objective).best!;
    });
  }
}

/**
 * Fast gradient method: one step of size ε (rel_stepsize 1) from the input. FGM("linf") is FGSM.
 * Unlike Foolbox, targeted criteria are accepted (one step down the target's loss).
 */
export class FGM extends GradientDescentAttack {
  constructor(norm: GradientNorm = "l2", options: GradientAttackOptions = {}) {
    super("fgm", norm, options);
  }
}

/** FGSM = FGM("linf"). */
export class FGSM extends FGM {
  constructor(options: GradientAttackOptions = {}) {
    super("linf", options);
  }
}

/** Basic iterative method (Kurakin et al.): Foolbox's defaults rel_stepsize 0.2, 10 steps, no random start. */
export class BIM extends GradientDescentAttack {
  constructor(norm: GradientNorm = "linf", options: GradientAttackOptions = {}) {
    super("bim", norm, options);
  }
}

/**
 * Projected gradient descent (Madry et al.) with Foolbox's defaults: L∞ rel_stepsize 0.01/0.3 and
 * 40 steps; L2 and L1 rel_stepsize 0.025 and 50 steps; random start.
 */
export class PGD extends GradientDescentAttack {
  constructor(norm: GradientNorm = "linf", options: GradientAttackOptions = {}) {
    super("pgd", norm, options);
  }
}

export interface SparseL1Options extends Omit<GradientAttackOptions, "preset"> {
  /** Coordinates whose |gradient| reaches this per-example quantile move (default 0.99). */
  readonly quantile?: number;
}

/**
 * Foolbox's SparseL1DescentAttack (Tramèr & Boneh 2019): the steepest-ascent-like L1 direction
 * (signs of the top 1 − quantile of |∇|, unit L1 norm, none pushing past the bounds) and the exact
 * L1-ball projection. Defaults as Foolbox: quantile 0.99, rel_stepsize 0.2, 10 steps, no random start.
 */
export class SparseL1Descent extends GradientDescentAttack {
  readonly quantile: number;
  constructor(options: SparseL1Options = {}) {
    const { quantile = 0.99, ...rest } = options;
    super("bim", "l1", rest);
    if (!(quantile >= 0 && quantile <= 1)) throw new RangeError(`quantile must lie in [0, 1], got ${quantile}`);
    this.quantile = quantile;
  }
  override get name(): string {
    return `SparseL1Descent (quantile ${this.quantile}, ${this.config.steps} steps, step ${this.config.absStepsize ?? `${this.config.relStepsize}·ε`})`;
  }
  protected override direction(grad: Tensor, x: Tensor, bounds: Bounds): Tensor {
    return sparseL1Direction(grad, x, bounds, this.quantile);
  }
  protected override project(delta: Tensor, epsilon: number): Tensor {
    return projectL1(delta, epsilon);
  }
}
