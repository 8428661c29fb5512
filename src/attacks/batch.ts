// The one loop that attacks a set of examples in batches: `advdyn attack`, the studies'
// measurements and attack-set jobs all call it. Batch b (starting at example s) is attacked, and
// its targets drawn, with seed `seed + s`, so a result does not depend on how the work was split
// into calls, only on the batch size.
import type { AttackModel } from "../nn/attack-model.js";
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";
import { criterionFor, TargetedMisclassification, type TargetMode } from "./criteria.js";
import type { PerturbationNorms } from "./norms.js";
import type { Attack, Epsilon } from "./types.js";

export interface BatchAttackOptions {
  readonly epsilons: readonly Epsilon[];
  readonly batchSize: number;
  /** Seed of the first batch; batch starting at example s uses seed + s (default 0). */
  readonly seed?: number;
  /** Targets of a targeted attack (default "none": untargeted). */
  readonly targets?: TargetMode;
  /** Number of classes (needed for random and next targets). */
  readonly classes?: number;
  /** Called after each batch with the examples done so far and the successes at the last ε. */
  readonly onBatch?: (done: number, successes: number) => void;
}

/** Everything an attack found, over all examples; K = number of ε. The caller owns the tensors (`torch.dispose(result)`). */
export interface BatchAttackResult {
  /** K tensors shaped like the inputs: clipped − inputs. */
  delta: Tensor[];
  /** bool [K, N], Foolbox's success (the criterion holds). */
  success: Tensor;
  /** bool [K, N], paper A's success: clean input correct and success. */
  successOnCorrect: Tensor;
  /** bool [N]. */
  cleanCorrect: Tensor;
  /** float [K, N, classes]: the logits at inputs + delta. */
  logits: Tensor;
  /** int64 [K, N]: their argmax. */
  adversarialClass: Tensor;
  /** L0, L1, L2, L∞ of each delta, [K, N]. */
  norms: PerturbationNorms;
  /** int64 [N], targeted attacks only. */
  targets?: Tensor;
}

/** One batch's results, a row per example (K = number of ε). Freed when the callback that receives it returns. */
export interface BatchResult {
  /** [b, K, …input]: clipped − inputs. */
  delta: Tensor;
  /** bool [b, K]. */
  success: Tensor;
  /** bool [b, K]. */
  successOnCorrect: Tensor;
  /** bool [b]. */
  cleanCorrect: Tensor;
  /** float [b, K, classes]. */
  logits: Tensor;
  /** [b, K] each. */
  norms: PerturbationNorms;
  /** int64 [b], targeted attacks only. */
  targets?: Tensor;
}

/**
 * The loop itself: hands each batch's results to `each` as they come, so a caller can store a
 * result larger than memory. `images` yields the consecutive batches' images (batchSize rows, the
 * last one fewer), each the loop's to dispose: a source drawn batch by batch is never held whole.
 */
export function attackEach(model: AttackModel, attack: Attack, images: Iterable<Tensor>, labels: Tensor, o: BatchAttackOptions, each: (r: BatchResult) => void): void {
  const n = labels.shape[0]!;
  const mode = o.targets ?? "none";
  if (mode !== "none" && mode !== "least-likely" && o.classes === undefined) throw new TypeError(`attackBatches: targets '${mode}' need the number of classes`);
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) throw new RangeError(`attackBatches: batchSize must be a positive integer, got ${o.batchSize}`);
  let start = 0;
  let successes = 0;
  for (const x of images) {
    const size = Math.min(o.batchSize, n - start);
    const seed = (o.seed ?? 0) + start;
    try {
      if (x.shape[0] !== size) throw new RangeError(`attackBatches: the batch at example ${start} has ${x.shape[0]} images, expected ${size}`);
      torch.tidy(() => {
        const y = labels.narrow(0, start, size);
        const criterion = criterionFor(mode, model, x, y, o.classes ?? 0, seed);
        const r = attack.run(model, x, criterion, { epsilons: o.epsilons, seed });
        each({
          delta: torch.stack(r.clipped.map((c) => c.sub(x)), 1), success: r.success.T, successOnCorrect: r.successOnCorrect.T, cleanCorrect: r.cleanCorrect,
          logits: torch.stack(r.logits, 1), norms: { l0: r.norms.l0.T, l1: r.norms.l1.T, l2: r.norms.l2.T, linf: r.norms.linf.T },
          ...(criterion instanceof TargetedMisclassification ? { targets: criterion.targets } : {}),
        });
        successes += r.success.select(0, o.epsilons.length - 1).sum().item();
      });
    } finally {
      x.dispose();
    }
    start += size;
    o.onBatch?.(start, successes);
    torch.checkInterrupt();
  }
  if (start !== n) throw new RangeError(`attackBatches: images for ${start} of the ${n} labels`);
}

/** The first n rows of t in views of `rows` rows, each the caller's to dispose. */
export function* rowsOf(t: Tensor, n: number, rows: number): Generator<Tensor> {
  for (let start = 0; start < n; start += rows) yield t.narrow(0, start, Math.min(rows, n - start));
}

export function attackBatches(model: AttackModel, attack: Attack, images: Tensor, labels: Tensor, o: BatchAttackOptions): BatchAttackResult {
  const parts: Record<string, Tensor[]> = {};
  try {
    attackEach(model, attack, rowsOf(images, labels.shape[0]!, o.batchSize), labels, o, ({ norms, ...r }) => {
      for (const [k, t] of Object.entries({ ...r, ...norms })) (parts[k] ??= []).push(torch.keep(t));
    });
    return torch.tidy(() => {
      const cat = (k: string) => torch.cat(parts[k]!, 0);
      const perEps = (k: string) => cat(k).T.contiguous();
      const delta = cat("delta");
      const logits = cat("logits").transpose(0, 1).contiguous();
      return {
        delta: o.epsilons.map((_, k) => delta.select(1, k).contiguous()),
        success: perEps("success"),
        successOnCorrect: perEps("successOnCorrect"),
        cleanCorrect: cat("cleanCorrect"),
        logits,
        adversarialClass: logits.argmax(2),
        norms: { l0: perEps("l0"), l1: perEps("l1"), l2: perEps("l2"), linf: perEps("linf") },
        ...(parts.targets ? { targets: cat("targets") } : {}),
      };
    });
  } finally {
    for (const ts of Object.values(parts)) torch.dispose(ts);
  }
}
