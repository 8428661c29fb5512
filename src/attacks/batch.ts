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

export function attackBatches(model: AttackModel, attack: Attack, images: Tensor, labels: Tensor, o: BatchAttackOptions): BatchAttackResult {
  const n = labels.shape[0]!;
  const mode = o.targets ?? "none";
  if (mode !== "none" && mode !== "least-likely" && o.classes === undefined) throw new TypeError(`attackBatches: targets '${mode}' need the number of classes`);
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) throw new RangeError(`attackBatches: batchSize must be a positive integer, got ${o.batchSize}`);
  const parts: Record<string, Tensor[]> = {};
  const add = (k: string, t: Tensor) => (parts[k] ??= []).push(torch.keep(t));
  let successes = 0;
  try {
    for (let start = 0; start < n; start += o.batchSize) {
      const size = Math.min(o.batchSize, n - start);
      const seed = (o.seed ?? 0) + start;
      torch.tidy(() => {
        const x = images.narrow(0, start, size);
        const y = labels.narrow(0, start, size);
        const criterion = criterionFor(mode, model, x, y, o.classes ?? 0, seed);
        const r = attack.run(model, x, criterion, { epsilons: o.epsilons, seed });
        add("delta", torch.stack(r.clipped.map((c) => c.sub(x)), 1));
        add("success", r.success.T);
        add("successOnCorrect", r.successOnCorrect.T);
        add("cleanCorrect", r.cleanCorrect);
        add("logits", torch.stack(r.logits, 1));
        for (const [name, t] of Object.entries(r.norms)) add(`norm.${name}`, (t as Tensor).T);
        if (criterion instanceof TargetedMisclassification) add("targets", criterion.targets.clone());
        successes += r.success.select(0, o.epsilons.length - 1).sum().item();
      });
      o.onBatch?.(start + size, successes);
      torch.checkInterrupt();
    }
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
        norms: { l0: perEps("norm.l0"), l1: perEps("norm.l1"), l2: perEps("norm.l2"), linf: perEps("norm.linf") },
        ...(parts.targets ? { targets: cat("targets") } : {}),
      };
    });
  } finally {
    for (const ts of Object.values(parts)) torch.dispose(ts);
  }
}

