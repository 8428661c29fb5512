// The contract every attack follows (Foolbox 3's `attacks/base.py`):
//   attack.run(model, inputs, criterion, { epsilons, seed }) → { raw, clipped, success, … }
// with one entry per ε. Fixed-ε attacks run once per ε; minimisation attacks run once, with
// early stop at min(ε), and their single raw output is clipped per ε. `clipped` is what the
// success is measured on. Beside Foolbox's success we report paper A's (the clean input was
// classified correctly too) and the per-example size of each clipped perturbation.
import * as torch from "../torch/index.js";
import type { Generator, Tensor } from "../torch/index.js";
import { asCriterion, type Criterion, type CriterionLike } from "./criteria.js";
import type { AttackModel } from "../nn/attack-model.js";
import { clipPerturbation, norms, type Norm, type PerturbationNorms } from "./norms.js";

/** A perturbation budget in the attack's norm; null = unbounded (minimisation attacks only, as in Foolbox). */
export type Epsilon = number | null;

export interface RunOptions {
  /** One ε or several; results have one entry per ε, in this order (a single ε gives K = 1). */
  readonly epsilons: Epsilon | readonly Epsilon[];
  /**
   * Seed of every random draw the attack makes (default 0): the same seed on the same inputs
   * gives the same result. Each ε of a fixed-ε attack starts from a generator with this seed, so
   * the result for an ε does not depend on the other ε of the call.
   */
  readonly seed?: number;
}

export interface AttackResult {
  readonly epsilons: readonly Epsilon[];
  /** K tensors shaped like the inputs: what the attack produced (for minimisation attacks, the same tensor for every ε). */
  readonly raw: Tensor[];
  /**
   * K tensors: raw pulled back into the ε-ball (Foolbox's clip_perturbation: clip for L∞, radial
   * rescale for L1/L2, the ⌊ε⌋ largest changes for L0) and the bounds; raw itself for ε = null.
   */
  readonly clipped: Tensor[];
  /** K tensors [N, classes]: the model's logits at clipped (argmax: the adversarial class). */
  readonly logits: Tensor[];
  /** bool [K, N], Foolbox's success: the criterion holds for clipped (clean errors count as successes). */
  readonly success: Tensor;
  /** bool [K, N], paper A's success: the clean input is classified correctly AND success. */
  readonly successOnCorrect: Tensor;
  /** bool [N]: argmax of the clean logits is the label. */
  readonly cleanCorrect: Tensor;
  /** L0, L1, L2, L∞ of clipped − inputs, each float [K, N]. */
  readonly norms: PerturbationNorms;
}

export interface Attack {
  /** A short description with the resolved settings. */
  readonly name: string;
  /** The norm ε is measured in, used for `clipped` and by repeat(). */
  readonly distance: Norm;
  run(model: AttackModel, inputs: Tensor, criterion: CriterionLike, options: RunOptions): AttackResult;
  /**
   * The clipped adversarial inputs for one ε, without run()'s success, logits and norms (two forward
   * passes and a sync each): what adversarial training needs at every step.
   */
  adversarial(model: AttackModel, inputs: Tensor, criterion: CriterionLike, epsilon: number, seed: number): Tensor;
  /** Foolbox's `attack.repeat(n)`: n runs with different seeds, keeping per ε and example the best (see Repeated). */
  repeat(times: number): Attack;
}

/** What a fixed-ε attack's perturb() gets for one ε. */
export interface PerturbContext {
  readonly model: AttackModel;
  readonly inputs: Tensor;
  readonly criterion: Criterion;
  readonly epsilon: number;
  /** Seeded with the run's seed, fresh for each ε. */
  readonly generator: Generator;
}

/** What a minimisation attack's minimize() gets. */
export interface MinimizeContext {
  readonly model: AttackModel;
  readonly inputs: Tensor;
  readonly criterion: Criterion;
  /** min(ε) when every ε is a number (an attack may stop once an example is adversarial within it), else null. */
  readonly earlyStop: number | null;
  readonly generator: Generator;
}

interface Prepared {
  readonly criterion: Criterion;
  readonly epsilons: Epsilon[];
  readonly seed: number;
}

function prepare(model: AttackModel, inputs: Tensor, criterion: CriterionLike, options: RunOptions): Prepared {
  if (!options || options.epsilons === undefined) throw new TypeError("run(): options.epsilons is required (a number, null or an array of them)");
  const epsilons: Epsilon[] = Array.isArray(options.epsilons) ? [...(options.epsilons as Epsilon[])] : [options.epsilons as Epsilon];
  if (epsilons.length === 0) throw new RangeError("run(): epsilons is empty");
  for (const e of epsilons) {
    if (e !== null && !(typeof e === "number" && Number.isFinite(e) && e >= 0)) throw new RangeError(`run(): every ε must be a finite number ≥ 0 or null, got ${String(e)}`);
  }
  const seed = options.seed ?? 0;
  if (!(Number.isSafeInteger(seed) && seed >= 0)) throw new TypeError(`run(): seed must be a non-negative integer, got ${String(seed)}`);
  if (inputs.ndim < 1 || inputs.shape[0] === 0) throw new RangeError("run(): inputs must be a non-empty batch");
  model.checkInputs(inputs);
  const c = asCriterion(criterion);
  c.checkBatch(inputs);
  return { criterion: c, epsilons, seed };
}

/**
 * Assembles the common result from one raw output per ε: clips each to its ε-ball (in `distance`)
 * and the bounds, evaluates the criterion on it, and measures clipped − inputs. Attacks outside
 * this file (minimal-norm ones, custom ones) build their result with it.
 */
export function buildResult(
  model: AttackModel, inputs: Tensor, criterion: Criterion, epsilons: readonly Epsilon[], raw: readonly Tensor[], distance: Norm,
): AttackResult {
  if (raw.length !== epsilons.length) throw new RangeError(`buildResult: ${raw.length} outputs for ${epsilons.length} epsilons`);
  return model.attacking(() => torch.noGrad(() => torch.tidy(() => {
    const clipped = raw.map((r, k) => {
      const e = epsilons[k]!;
      return e === null ? r : clipPerturbation(inputs, r, e, distance, model.bounds);
    });
    const cleanCorrect = torch.tidy(() => criterion.isCorrect(model.logits(inputs)));
    const logits = clipped.map((c) => model.logits(c));
    const success = torch.stack(logits.map((l) => torch.tidy(() => criterion.isAdversarial(l))));
    const sizes = (norm: Norm) => torch.stack(clipped.map((c) => torch.tidy(() => norms(c.sub(inputs), norm))));
    return {
      epsilons: Object.freeze([...epsilons]),
      raw: [...raw],
      clipped,
      logits,
      success,
      successOnCorrect: success.logicalAnd(cleanCorrect.unsqueeze(0)),
      cleanCorrect,
      norms: { l0: sizes("l0"), l1: sizes("l1"), l2: sizes("l2"), linf: sizes("linf") },
    };
  })));
}

/**
 * One iteration of an attack loop: runs fn(state) in its own tidy scope (so every intermediate is
 * freed on return) and disposes the tensors of the old state that the new one does not carry
 * over, except the `protect`ed ones (the inputs, say). Throws Interrupted after Ctrl-C.
 */
export function advance<S extends Readonly<Record<string, Tensor | undefined>>>(state: S, fn: (s: S) => S, protect: readonly Tensor[] = []): S {
  // A safe point: Ctrl-C ends the attack here (its tensors are freed by the enclosing scopes).
  torch.checkInterrupt();
  const next = torch.tidy(() => fn(state));
  const kept = new Set<Tensor | undefined>([...Object.values(next), ...protect]);
  for (const t of Object.values(state)) if (t && !kept.has(t)) t.dispose();
  return next;
}

/**
 * The seed of restart i of a repeated attack: the run's own seed for i = 0 (so repeat(1) is the
 * plain attack), then a 32-bit hash of (seed, i), so restarts of nearby seeds do not coincide.
 */
export function restartSeed(seed: number, restart: number): number {
  if (restart === 0) return seed;
  const mix = (h: number): number => {
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
    return (h ^ (h >>> 16)) >>> 0;
  };
  return mix(mix(seed >>> 0) ^ mix(Math.floor(seed / 2 ** 32) + 0x9e3779b9) ^ Math.imul(restart, 0x85ebca6b));
}

/** Runs fn with a fresh generator seeded with `seed`, freed afterwards. */
export function withGenerator<R>(seed: number, fn: (g: Generator) => R): R {
  const g = new torch.Generator(seed);
  try {
    return fn(g);
  } finally {
    g.dispose();
  }
}

/** Foolbox's FixedEpsilonAttack: perturb() once per ε; `clipped` guards against overshooting the ball. */
export abstract class FixedEpsilonAttack implements Attack {
  abstract readonly name: string;
  abstract readonly distance: Norm;
  /** The raw adversarial inputs for one ε (need not lie in the ball: run() clips them). */
  protected abstract perturb(ctx: PerturbContext): Tensor;

  run(model: AttackModel, inputs: Tensor, criterion: CriterionLike, options: RunOptions): AttackResult {
    const p = prepare(model, inputs, criterion, options);
    if (p.epsilons.includes(null)) throw new RangeError(`${this.name}: a fixed-ε attack needs numbers for every ε (null is for minimisation attacks)`);
    return model.attacking(() => torch.tidy(() => {
      const raw = p.epsilons.map((epsilon) => withGenerator(p.seed, (generator) =>
        torch.tidy(() => this.perturb({ model, inputs, criterion: p.criterion, epsilon: epsilon!, generator }))));
      return buildResult(model, inputs, p.criterion, p.epsilons, raw, this.distance);
    }));
  }

  adversarial(model: AttackModel, inputs: Tensor, criterion: CriterionLike, epsilon: number, seed: number): Tensor {
    const p = prepare(model, inputs, criterion, { epsilons: epsilon, seed });
    return model.attacking(() => torch.tidy(() => withGenerator(p.seed, (generator) =>
      torch.noGrad(() => clipPerturbation(inputs, this.perturb({ model, inputs, criterion: p.criterion, epsilon, generator }), epsilon, this.distance, model.bounds)))));
  }

  repeat(times: number): Attack {
    return new Repeated(this, times);
  }
}

/** Attacks without a cheaper path: run()'s clipped output. */
function adversarialViaRun(attack: Attack, model: AttackModel, inputs: Tensor, criterion: CriterionLike, epsilon: number, seed: number): Tensor {
  return torch.tidy(() => attack.run(model, inputs, criterion, { epsilons: epsilon, seed }).clipped[0]!);
}

/** Foolbox's MinimizationAttack: minimize() once with early stop at min(ε); its output is clipped per ε. */
export abstract class MinimizationAttack implements Attack {
  abstract readonly name: string;
  abstract readonly distance: Norm;
  /** The raw adversarial inputs, as small a perturbation as the attack can find. */
  protected abstract minimize(ctx: MinimizeContext): Tensor;

  run(model: AttackModel, inputs: Tensor, criterion: CriterionLike, options: RunOptions): AttackResult {
    const p = prepare(model, inputs, criterion, options);
    const earlyStop = p.epsilons.includes(null) ? null : Math.min(...(p.epsilons as number[]));
    return model.attacking(() => torch.tidy(() => {
      const raw = withGenerator(p.seed, (generator) =>
        torch.tidy(() => this.minimize({ model, inputs, criterion: p.criterion, earlyStop, generator })));
      return buildResult(model, inputs, p.criterion, p.epsilons, p.epsilons.map(() => raw), this.distance);
    }));
  }

  adversarial(model: AttackModel, inputs: Tensor, criterion: CriterionLike, epsilon: number, seed: number): Tensor {
    return adversarialViaRun(this, model, inputs, criterion, epsilon, seed);
  }

  repeat(times: number): Attack {
    return new Repeated(this, times);
  }
}

/**
 * Foolbox's `Repeated`: runs the attack `times` times (restart i with seed restartSeed(seed, i))
 * and keeps, per ε and example, the first successful output for a numeric ε, and the closest
 * successful one (in the attack's norm) for ε = null.
 */
export class Repeated implements Attack {
  readonly attack: Attack;
  readonly times: number;
  constructor(attack: Attack, times: number) {
    if (!(Number.isInteger(times) && times >= 1)) throw new RangeError(`repeat(times): expected an integer ≥ 1, got ${times}`);
    this.attack = attack;
    this.times = times;
  }
  get name(): string {
    return `${this.attack.name} ×${this.times}`;
  }
  get distance(): Norm {
    return this.attack.distance;
  }

  run(model: AttackModel, inputs: Tensor, criterion: CriterionLike, options: RunOptions): AttackResult {
    const p = prepare(model, inputs, criterion, options);
    return model.attacking(() => torch.tidy(() => {
      let best: { raw: Tensor[]; success: Tensor } | undefined;
      for (let i = 0; i < this.times; i++) {
        const r = this.attack.run(model, inputs, p.criterion, { epsilons: p.epsilons, seed: restartSeed(p.seed, i) });
        if (!best) {
          best = { raw: r.raw, success: r.success };
          continue;
        }
        const b = best;
        const merged = torch.tidy(() => {
          const raw = p.epsilons.map((e, k) => {
            let take = r.success.select(0, k).logicalAnd(b.success.select(0, k).logicalNot());
            if (e === null) {
              const closer = norms(r.raw[k]!.sub(inputs), this.distance).lt(norms(b.raw[k]!.sub(inputs), this.distance));
              take = r.success.select(0, k).logicalAnd(closer).logicalOr(take);
            }
            return torch.where(take.reshape(-1, ...new Array<number>(inputs.ndim - 1).fill(1)), r.raw[k]!, b.raw[k]!);
          });
          return { raw, success: b.success.logicalOr(r.success) };
        });
        torch.dispose([b, r]);
        best = merged;
      }
      return buildResult(model, inputs, p.criterion, p.epsilons, best!.raw, this.distance);
    }));
  }

  adversarial(model: AttackModel, inputs: Tensor, criterion: CriterionLike, epsilon: number, seed: number): Tensor {
    return adversarialViaRun(this, model, inputs, criterion, epsilon, seed);
  }

  repeat(times: number): Attack {
    return new Repeated(this.attack, this.times * times);
  }
}
