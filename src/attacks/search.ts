// The smallest ε at which a fixed-ε attack succeeds, per example, by bisection: a minimisation
// attack built from any fixed-ε one (PGD, BIM, FGM, …). Unlike Foolbox's
// BinarySearchContrastReductionAttack (which bisects along one fixed path), every probe reruns
// the wrapped attack with the new budget.
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";
import { asCriterion, Misclassification, TargetedMisclassification, type Criterion, type CriterionLike } from "./criteria.js";
import type { AttackModel } from "../nn/attack-model.js";
import { atleastKd, type Norm } from "./norms.js";
import { MinimizationAttack, type Attack, type MinimizeContext } from "./types.js";

export interface EpsilonSearchOptions {
  /** An ε taken as too small to succeed (default 0). */
  readonly low?: number;
  /** The first ε tried; examples the attack does not fool there are not searched further (their result is the input). */
  readonly high: number;
  /** Bisection steps after the try at `high` (default 10): the bracket ends (high − low) / 2^steps wide. */
  readonly steps?: number;
}

export interface EpsilonSearchResult {
  /** Per example, the attack's clipped output at the smallest successful ε (the input where it failed at `high`). */
  readonly adversarial: Tensor;
  /** float64 [N]: that ε, the upper end of the final bracket (Infinity where the attack failed at `high`). */
  readonly epsilon: Tensor;
}

/** The criterion restricted to the examples at `index` (int64 [M]). */
function subsetCriterion(c: Criterion, index: Tensor): Criterion {
  if (c instanceof TargetedMisclassification) return new TargetedMisclassification(c.labels.indexSelect(0, index), c.targets.indexSelect(0, index));
  if (c instanceof Misclassification) return new Misclassification(c.labels.indexSelect(0, index));
  throw new TypeError(`EpsilonBinarySearch: cannot restrict a ${c.constructor.name} to a subset of examples (Misclassification and TargetedMisclassification can be)`);
}

/**
 * Per-example bisection of ε for a fixed-ε attack: one run at `high`, then `steps` rounds in which
 * every example still in play is attacked at the midpoint of its own bracket. The attack's budget
 * is one number per run, so each round runs it once per distinct midpoint on the examples that
 * share it (at most min(N, 2^round) runs; the examples attacked per round never exceed N). Every
 * run gets the same seed; the result is deterministic in it.
 */
export class EpsilonBinarySearch extends MinimizationAttack {
  readonly attack: Attack;
  readonly low: number;
  readonly high: number;
  readonly steps: number;

  constructor(attack: Attack, options: EpsilonSearchOptions) {
    super();
    this.attack = attack;
    this.low = options.low ?? 0;
    this.high = options.high;
    this.steps = options.steps ?? 10;
    if (!(Number.isFinite(this.low) && this.low >= 0 && Number.isFinite(this.high) && this.high > this.low)) {
      throw new RangeError(`EpsilonBinarySearch: expected 0 ≤ low < high (finite), got low ${this.low}, high ${this.high}`);
    }
    if (!(Number.isInteger(this.steps) && this.steps >= 0)) throw new RangeError(`steps: expected an integer ≥ 0, got ${this.steps}`);
  }

  get distance(): Norm {
    return this.attack.distance;
  }

  get name(): string {
    return `binary search of ε in [${this.low}, ${this.high}] (${this.steps} steps) over ${this.attack.name}`;
  }

  /** The search itself; run() returns its `adversarial` with Foolbox's per-ε clipping and success. */
  search(model: AttackModel, inputs: Tensor, criterion: CriterionLike, options: { readonly seed?: number } = {}): EpsilonSearchResult {
    const c = asCriterion(criterion);
    c.checkBatch(inputs);
    const seed = options.seed ?? 0;
    const n = inputs.shape[0]!;
    const lower = new Array<number>(n).fill(this.low);
    const upper = new Array<number>(n).fill(Infinity);
    return model.attacking(() => torch.tidy(() => {
      // Runs the attack at ε on the examples `at` (all when undefined); returns its clipped output and success.
      const probe = (epsilon: number, at?: Tensor) => torch.tidy(() => {
        const r = at === undefined
          ? this.attack.run(model, inputs, c, { epsilons: epsilon, seed })
          : this.attack.run(model, inputs.indexSelect(0, at), subsetCriterion(c, at), { epsilons: epsilon, seed });
        return { clipped: r.clipped[0]!, success: r.success.select(0, 0) };
      });
      const first = probe(this.high);
      // Examples not fooled at `high` keep the input, as minimisation attacks that find nothing do.
      let best = torch.tidy(() => torch.where(atleastKd(first.success, inputs.ndim), first.clipped, inputs));
      first.success.toTypedArray().forEach((ok, i) => { if (ok) upper[i] = this.high; });
      torch.dispose(first);
      for (let round = 0; round < this.steps; round++) {
        const groups = new Map<number, number[]>();
        upper.forEach((u, i) => {
          if (u === Infinity) return;
          const mid = (lower[i]! + u) / 2;
          const members = groups.get(mid);
          if (members) members.push(i);
          else groups.set(mid, [i]);
        });
        for (const [mid, members] of groups) {
          const next = torch.tidy(() => {
            const at = torch.tensor(members, { dtype: "int64", device: inputs.device });
            const { clipped, success } = probe(mid, at);
            const ok = success.toTypedArray();
            members.forEach((i, k) => { if (ok[k]) upper[i] = mid; else lower[i] = mid; });
            const merged = torch.where(atleastKd(success, inputs.ndim), clipped, best.indexSelect(0, at));
            return best.scatter(0, atleastKd(at, inputs.ndim).expand(...merged.shape), merged);
          });
          best.dispose();
          best = next;
        }
      }
      return { adversarial: best, epsilon: torch.tensor(Float64Array.from(upper), { device: inputs.device }) };
    }));
  }

  protected minimize({ model, inputs, criterion, generator }: MinimizeContext): Tensor {
    // The wrapped attack takes a seed, not a generator: draw one from the run's generator.
    const seed = torch.tidy(() => torch.randint(0, 2 ** 31 - 1, [1], { generator }).item());
    const { adversarial, epsilon } = this.search(model, inputs, criterion, { seed });
    epsilon.dispose();
    return adversarial;
  }
}
