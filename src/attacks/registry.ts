// Every attack registered once: its name, the norms it works in, whether ε is a budget or a
// success threshold, its option schema (defaults, allowed values, help) and its presets. The CLI's
// flags and help, the study specs' attack entries and the CLI reference all come from here.
//
// An attack is named by a plain-JSON reference, the form study specs and job keys use:
//   { attack: "pgd", norm: "linf", eps: 8 / 255, options: { steps: 1000, absStepsize: 0.01 } }
import { bool, int, oneOf, optionError, OptionError, positive, resolveOptions, spec, type Resolved, type Schema } from "../util/schema.js";
import type { TargetMode } from "./criteria.js";
import { CarliniWagnerL2 } from "./cw.js";
import { DDN } from "./ddn.js";
import { L2DeepFool, LinfDeepFool } from "./deepfool.js";
import { BIM, FGM, FGSM, type GradientNorm, PGD, PRESETS, SparseL1Descent } from "./fixed.js";
import { FMN } from "./fmn.js";
import { NORMS, type Norm } from "./norms.js";
import { RandomNoise } from "./random.js";
import { EpsilonBinarySearch } from "./search.js";
import { PaperBTargetedPGD, type PaperBNorm } from "./targeted.js";
import type { Attack, Epsilon } from "./types.js";

/** An attack as study specs and job inputs name it. */
export interface AttackRef {
  readonly attack: string;
  readonly norm: Norm;
  /** The budget (fixed-ε attacks) or the success threshold (minimisation attacks; null = none); a list runs every ε. */
  readonly eps: Epsilon | readonly Epsilon[];
  readonly options?: Readonly<Record<string, unknown>>;
}

export interface AttackDef<S extends Schema = Schema> {
  readonly summary: string;
  readonly norms: readonly Norm[];
  /** "fixed": ε is the budget and required; "minimal": the attack seeks the smallest δ, ε only thresholds success. */
  readonly budget: "fixed" | "minimal";
  /** Which criteria it takes: untargeted only, targeted only, or either. */
  readonly targets: "untargeted" | "targeted" | "either";
  readonly schema: S;
  /** Named option sets (other libraries' defaults), chosen with the `preset` option. */
  readonly presets?: Readonly<Record<string, string>>;
  build(norm: Norm, o: Resolved<S>): Attack;
}

const define = <S extends Schema>(def: AttackDef<S>): AttackDef<S> => def;

const nonNegative = spec("a finite number ≥ 0", (v) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined));
const unitInterval = spec("a number in [0, 1]", (v) => (typeof v === "number" && v >= 0 && v <= 1 ? v : undefined));
const candidates = spec("an integer ≥ 2, or null for all classes", (v) => (v === null || (Number.isSafeInteger(v) && (v as number) >= 2) ? (v as number | null) : undefined));

/** The options every attack has. */
const common = {
  restarts: int(1)(1, "runs with different random starts; per ε and example the first success is kept (Foolbox's repeat)"),
};

const PRESET_DOCS: Readonly<Record<string, string>> = {
  foolbox: "Foolbox 3.3.4's defaults (PGD L∞: 40 steps of 0.01/0.3·ε; L2, L1: 50 steps of 0.025·ε; random start)",
  "foolbox-native-2020": "paper A's code (foolbox.ext.native PGD L∞): 1000 steps of absolute size 0.01, random start, last iterate",
  madry: "Madry et al. 2018's CIFAR-10 PGD L∞: 7 steps of ε/4, random start",
  torchattacks: "torchattacks 3.5.1: PGD L∞ 10 steps of 2/255, PGD L2 10 steps of 0.2, random start; BIM L∞ 10 steps of 2/255",
};

/** Options of the Foolbox gradient loop (FGM, BIM, PGD); unset values come from the preset. */
const gradientSchema = {
  preset: oneOf(PRESETS)("foolbox", "whose defaults the other options start from"),
  steps: int(1).optional("iterations (default: the preset's)"),
  relStepsize: positive.optional("step size as a fraction of ε (default: the preset's)"),
  absStepsize: positive.optional("step size in input units; wins over relStepsize (default: the preset's)"),
  randomStart: bool.optional("start from a uniform point of the ε-ball (default: the preset's)"),
  bestIterate: bool(false, "return each example's iterate with the highest attack loss instead of the last one"),
  earlyStop: bool(false, "freeze each example once it is adversarial"),
  ...common,
};
type GradientOptions = Resolved<typeof gradientSchema>;
const gradient = (o: GradientOptions) => ({
  preset: o.preset, steps: o.steps, relStepsize: o.relStepsize, absStepsize: o.absStepsize,
  randomStart: o.randomStart, bestIterate: o.bestIterate, earlyStop: o.earlyStop,
});

const ATTACKS = {
  pgd: define({
    summary: "projected gradient descent (Madry et al.) with Foolbox's loop",
    norms: ["l1", "l2", "linf"], budget: "fixed", targets: "either", schema: gradientSchema, presets: PRESET_DOCS,
    build: (norm, o) => new PGD(norm as GradientNorm, gradient(o)),
  }),
  bim: define({
    summary: "basic iterative method (Kurakin et al.): PGD without random start, 10 steps of 0.2·ε",
    norms: ["l1", "l2", "linf"], budget: "fixed", targets: "either", schema: gradientSchema, presets: PRESET_DOCS,
    build: (norm, o) => new BIM(norm as GradientNorm, gradient(o)),
  }),
  fgm: define({
    summary: "fast gradient method: one step of size ε (FGSM in L∞)",
    norms: ["l2", "linf"], budget: "fixed", targets: "either", schema: gradientSchema, presets: PRESET_DOCS,
    build: (norm, o) => new FGM(norm as GradientNorm, gradient(o)),
  }),
  fgsm: define({
    summary: "fast gradient sign method (Goodfellow et al.): one signed step of size ε",
    norms: ["linf"], budget: "fixed", targets: "either", schema: gradientSchema, presets: PRESET_DOCS,
    build: (_norm, o) => new FGSM(gradient(o)),
  }),
  "sparse-l1": define({
    summary: "sparse L1 descent (Tramèr & Boneh 2019): signs of the top gradient coordinates, exact L1 projection",
    norms: ["l1"], budget: "fixed", targets: "either",
    schema: {
      quantile: unitInterval(0.99, "coordinates whose |gradient| reaches this per-example quantile move"),
      steps: int(1)(10, "iterations"),
      relStepsize: positive(0.2, "step size as a fraction of ε"),
      absStepsize: positive.optional("step size in input units; wins over relStepsize"),
      randomStart: bool(false, "start from a uniform point of the ε-ball"),
      ...common,
    },
    build: (_norm, o) => new SparseL1Descent({ quantile: o.quantile, steps: o.steps, relStepsize: o.relStepsize, absStepsize: o.absStepsize, randomStart: o.randomStart }),
  }),
  "paper-b-pgd": define({
    summary: "paper B's targeted PGD (Kumano et al.): best iterate by target loss; L∞ by max-abs step and rescaling, L0 adds one coordinate per step (ε = coordinates)",
    norms: ["l0", "l2", "linf"], budget: "fixed", targets: "targeted",
    schema: {
      steps: int(1).optional("iterations for L2 and L∞ (default 100); L0 takes ε steps"),
      stepsize: positive.optional("step size (default ε/5 for L2 and L∞, 0.3 for L0)"),
      loss: oneOf(["auto", "ce", "exp"] as const)("auto", "target loss: cross-entropy, or exp(−margin) for one-output models (auto)"),
      linfProjection: oneOf(["rescale", "clip"] as const)("rescale", "L∞ projection: rescale δ (paper B's renorm) or clip it elementwise"),
      ...common,
    },
    build: (norm, o) => new PaperBTargetedPGD(norm as PaperBNorm, { steps: o.steps, stepsize: o.stepsize, loss: o.loss, linfProjection: o.linfProjection }),
  }),
  deepfool: define({
    summary: "DeepFool (Moosavi-Dezfooli et al.): steps to the nearest linearised boundary",
    norms: ["l2", "linf"], budget: "minimal", targets: "untargeted",
    schema: {
      steps: int(1)(50, "maximum linearisation steps"),
      candidates: candidates(10, "how many of the clean input's top classes are candidates"),
      overshoot: nonNegative(0.02, "each step goes to (1 + overshoot) × the accumulated perturbation"),
      loss: oneOf(["logits", "crossentropy"] as const)("logits", "linearise logit or log-softmax differences"),
      ...common,
    },
    build: (norm, o) => {
      const opts = { steps: o.steps, candidates: o.candidates, overshoot: o.overshoot, loss: o.loss };
      return norm === "l2" ? new L2DeepFool(opts) : new LinfDeepFool(opts);
    },
  }),
  fmn: define({
    summary: "fast minimum-norm attack (Pintor et al. 2021)",
    norms: NORMS, budget: "minimal", targets: "either",
    schema: {
      steps: int(1)(100, "iterations"),
      maxStepsize: positive(1, "initial gradient step, cosine-annealed to minStepsize"),
      minStepsize: positive.optional("final gradient step (default maxStepsize / 100)"),
      gamma: positive(0.05, "initial relative change of ε per step, annealed to 0.001"),
      ...common,
    },
    build: (norm, o) => new FMN(norm, { steps: o.steps, maxStepsize: o.maxStepsize, minStepsize: o.minStepsize, gamma: o.gamma }),
  }),
  cw: define({
    summary: "Carlini & Wagner's L2 attack: Adam in tanh space with a binary search over c",
    norms: ["l2"], budget: "minimal", targets: "either",
    schema: {
      binarySearchSteps: int(1)(9, "values of c tried per example"),
      steps: int(1)(10000, "Adam steps per value of c"),
      stepsize: positive(0.01, "Adam's learning rate in tanh space"),
      confidence: nonNegative(0, "margin by which the adversarial class must win"),
      initialConst: positive(0.001, "the first c"),
      abortEarly: bool(true, "stop Adam when the loss stalls"),
      ...common,
    },
    build: (_norm, o) => new CarliniWagnerL2({
      binarySearchSteps: o.binarySearchSteps, steps: o.steps, stepsize: o.stepsize, confidence: o.confidence, initialConst: o.initialConst, abortEarly: o.abortEarly,
    }),
  }),
  ddn: define({
    summary: "decoupled direction and norm (Rony et al. 2019)",
    norms: ["l2"], budget: "minimal", targets: "either",
    schema: {
      steps: int(1)(100, "iterations"),
      initEpsilon: positive(1, "initial norm of the perturbation"),
      gamma: positive(0.05, "relative change of the norm per step"),
      ...common,
    },
    build: (_norm, o) => new DDN({ steps: o.steps, initEpsilon: o.initEpsilon, gamma: o.gamma }),
  }),
  "random-noise": define({
    summary: "a Gaussian direction of norm ε (the noise baseline of an ε)",
    norms: ["l2", "linf"], budget: "fixed", targets: "untargeted", schema: { ...common },
    build: (norm) => new RandomNoise(norm as "l2" | "linf"),
  }),
  "eps-search": define({
    summary: "the smallest ε at which a fixed-ε attack (with its default options) succeeds, per example, by bisection",
    norms: ["l1", "l2", "linf"], budget: "minimal", targets: "either",
    schema: {
      base: oneOf(["pgd", "bim", "fgm", "fgsm", "random-noise"] as const)("pgd", "the fixed-ε attack searched over"),
      high: positive.optional("the first ε tried (required)"),
      low: nonNegative(0, "an ε taken as too small to succeed"),
      searchSteps: int(0)(10, "bisection steps after the try at high"),
      ...common,
    },
    build: (norm, o) => {
      if (o.high === undefined) throw new OptionError("eps-search: option 'high' is required (the first ε tried)");
      return new EpsilonBinarySearch(createAttack({ attack: o.base, norm, eps: o.high }), { low: o.low, high: o.high, steps: o.searchSteps });
    },
  }),
} as const;

export type AttackName = keyof typeof ATTACKS;
export const attackNames = (): AttackName[] => Object.keys(ATTACKS) as AttackName[];

export function describeAttack(name: string): AttackDef {
  if (!Object.hasOwn(ATTACKS, name)) throw new OptionError(`unknown attack '${name}'; attacks: ${attackNames().join(", ")}`);
  return ATTACKS[name as AttackName] as unknown as AttackDef;
}

const epsilonsOf = (ref: AttackRef): Epsilon[] => (Array.isArray(ref.eps) ? [...(ref.eps as Epsilon[])] : [ref.eps as Epsilon]);

/**
 * The reference with every option checked and its defaults filled in (options without a default
 * stay absent), so that equal attacks have equal references. Throws an OptionError naming what
 * is wrong and what is allowed.
 */
export function resolveAttack(ref: AttackRef): AttackRef & { options: Record<string, unknown> } {
  if (ref === null || typeof ref !== "object") throw new OptionError(`attack: expected { attack, norm, eps, options }, got ${JSON.stringify(ref)}`);
  const def = describeAttack(ref.attack);
  if (!def.norms.includes(ref.norm)) throw optionError(ref.attack, "norm", ref.norm, def.norms.map((n) => JSON.stringify(n)).join(" | "));
  const eps = epsilonsOf(ref);
  if (eps.length === 0) throw optionError(ref.attack, "eps", ref.eps, "a number, null or a non-empty list");
  for (const e of eps) {
    if (def.budget === "fixed" && !(typeof e === "number" && Number.isFinite(e) && e > 0)) {
      throw optionError(ref.attack, "eps", e, `a finite number > 0 (${ref.attack} is a fixed-ε attack: ε is its budget)`);
    }
    if (e !== null && !(typeof e === "number" && Number.isFinite(e) && e >= 0)) throw optionError(ref.attack, "eps", e, "a finite number ≥ 0, or null (no threshold)");
    if (ref.norm === "l0" && e !== null && !Number.isInteger(e)) throw optionError(ref.attack, "eps", e, "an integer: the number of coordinates to change (L0)");
  }
  const options = Object.fromEntries(Object.entries(resolveOptions(ref.attack, def.schema, ref.options ?? {})).filter(([, v]) => v !== undefined));
  return { attack: ref.attack, norm: ref.norm, eps: ref.eps, options };
}

/** The Attack a reference names (see resolveAttack for the checks). */
export function createAttack(ref: AttackRef): Attack {
  const r = resolveAttack(ref);
  const def = describeAttack(r.attack);
  const o = resolveOptions(r.attack, def.schema, r.options);
  const attack = def.build(r.norm, o);
  const restarts = o.restarts as number;
  return restarts > 1 ? attack.repeat(restarts) : attack;
}

/** The ε list of a reference. */
export const attackEpsilons = (ref: AttackRef): Epsilon[] => epsilonsOf(ref);

/** Refuses a target mode the attack cannot take (paper B's attack needs targets; DeepFool refuses them). */
export function checkTargets(ref: AttackRef, mode: TargetMode): void {
  const def = describeAttack(ref.attack);
  if (def.targets === "targeted" && mode === "none") throw new OptionError(`${ref.attack} is a targeted attack: choose targets (random, next or least-likely)`);
  if (def.targets === "untargeted" && mode !== "none") throw new OptionError(`${ref.attack} is untargeted: it takes no targets (got '${mode}')`);
}
