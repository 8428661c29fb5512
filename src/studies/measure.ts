// One checkpoint measured: attacked with the study's PGD (and minimal-norm attacks for the
// dynamics), the perturbations' spectra summarised per example, β of linear models, transfer of
// the final model's perturbations, ReLU flips and roughness along adversarial vs random segments,
// layer spectra. Returns database rows and the tensors the report draws (mean spectra, examples).
import { FMN } from "../attacks/fmn.js";
import { PGD } from "../attacks/fixed.js";
import { AttackModel } from "../attacks/model.js";
import type { Attack } from "../attacks/types.js";
import { centredSpectrum, layerSpectra, linearPredictor, linearityGap, matchedRandom, meanSpectrum, pathAnalysis, summarizeSpectrum } from "../analysis/index.js";
import type { Dataset } from "../data/dataset.js";
import type { Module } from "../nn/module.js";
import type { ResultRow } from "../store/db.js";
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";
import type { AttackSpec, StudySpec } from "./spec.js";

/** Where the rows of a checkpoint go (every field of ResultRow but the measured ones). */
export type RowKey = Omit<ResultRow, "attack" | "quantity" | "bin" | "example" | "value">;

/** The final model's PGD perturbations, which transfer and breakpoints evaluate on earlier checkpoints. */
export interface FinalPerturbations {
  delta: Tensor;
  /** bool [N]: the final attack succeeded (paper A's definition). */
  success: Tensor;
  /** The final model's class for x + δ. */
  adversarialClass: Tensor;
}

export interface Measurement {
  rows: ResultRow[];
  /**
   * Keyed by attack key: what tensors/<…>/<attack>.safetensors holds. The final checkpoint's PGD
   * file also holds `final_delta`, `final_success` and `final_adversarial_class` when transfer or
   * breakpoints need them (see finalPerturbations).
   */
  tensors: Map<string, Map<string, Tensor>>;
}

/** The final checkpoint's perturbations, from its PGD tensors. */
export function finalPerturbations(t: ReadonlyMap<string, Tensor>): FinalPerturbations {
  const get = (k: string) => {
    const v = t.get(k);
    if (!v) throw new Error(`the final checkpoint's tensors lack '${k}'; delete the study's tensors folder entry and rerun`);
    return v;
  };
  return { delta: get("final_delta"), success: get("final_success"), adversarialClass: get("final_adversarial_class") };
}

const EXAMPLES_SAVED = 8;

class Rows {
  readonly rows: ResultRow[] = [];
  constructor(private readonly key: RowKey) {}
  scalar(attack: string, quantity: string, value: number): void {
    this.rows.push({ ...this.key, attack, quantity, bin: null, example: null, value });
  }
  curve(attack: string, quantity: string, values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.rows.push({ ...this.key, attack, quantity, bin: i, example: null, value: values[i]! });
  }
  perExample(attack: string, quantity: string, examples: readonly number[], values: ArrayLike<number>): void {
    examples.forEach((e, i) => this.rows.push({ ...this.key, attack, quantity, bin: null, example: e, value: values[i]! }));
  }
}

const numbers = (t: Tensor): number[] => Array.from(t.to("float64").toTypedArray() as Float64Array);
const indicesOf = (mask: Tensor): number[] => numbers(mask).flatMap((v, i) => (v ? [i] : []));
const take = (t: Tensor, idx: readonly number[]) => t.indexSelect(0, torch.tensor([...idx], { dtype: "int64" }));

/** Runs an attack over the examples in batches; perturbations, paper A's success and the adversarial class. */
function attackAll(model: AttackModel, attack: Attack, data: Dataset, eps: number | null, batchSize: number, seed: number) {
  const deltas: Tensor[] = [];
  const success: Tensor[] = [];
  const correct: Tensor[] = [];
  const advClass: Tensor[] = [];
  const n = data.labels.shape[0]!;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    torch.tidy(() => {
      const x = data.images.narrow(0, start, size);
      const y = data.labels.narrow(0, start, size);
      const r = attack.run(model, x, y, { epsilons: [eps], seed: seed + start });
      deltas.push(torch.keep(r.clipped[0]!.sub(x)));
      success.push(torch.keep(r.successOnCorrect.select(0, 0)));
      correct.push(torch.keep(r.cleanCorrect));
      advClass.push(torch.keep(torch.noGrad(() => model.logits(r.clipped[0]!).argmax(1))));
    });
  }
  return torch.tidy(() => ({
    delta: torch.cat(deltas, 0), success: torch.cat(success, 0), cleanCorrect: torch.cat(correct, 0), adversarialClass: torch.cat(advClass, 0),
  }));
}

/** Per-example size and spectrum of the successful perturbations, their mean curves and spectra. */
function perturbationRows(rows: Rows, attack: string, x: Tensor, delta: Tensor, success: Tensor, cleanCorrect: Tensor): Map<string, Tensor> {
  const n = success.shape[0]!;
  const ok = indicesOf(success);
  rows.scalar(attack, "examples", n);
  rows.scalar(attack, "successes", ok.length);
  const correct = numbers(cleanCorrect).reduce((a, b) => a + b, 0);
  rows.scalar(attack, "clean_accuracy", (100 * correct) / n);
  rows.scalar(attack, "success_rate", (100 * ok.length) / n);
  rows.scalar(attack, "success_rate_on_correct", correct ? (100 * ok.length) / correct : 0);
  const tensors = new Map<string, Tensor>();
  if (ok.length === 0) return tensors; // failed attacks are excluded from spectra (paper A)
  const d = take(delta, ok);
  const flat = d.flatten(1);
  rows.perExample(attack, "delta_l2", ok, numbers(flat.norm(2, 1)));
  rows.perExample(attack, "delta_linf", ok, numbers(flat.abs().amax(1)));
  const s = summarizeSpectrum(d);
  rows.perExample(attack, "delta_hat_l1", ok, numbers(s.l1));
  rows.perExample(attack, "delta_hat_l2", ok, numbers(s.l2));
  rows.perExample(attack, "delta_hat_sparsity", ok, numbers(s.sparsity));
  rows.perExample(attack, "delta_centroid", ok, numbers(s.centroid));
  rows.perExample(attack, "delta_hf8", ok, numbers(s.hf8));
  rows.perExample(attack, "delta_hf12", ok, numbers(s.hf12));
  rows.curve(attack, "delta_radial", numbers(s.radial.mean(0)));
  rows.curve(attack, "delta_angular", numbers(s.angular.mean(0)));
  const m = meanSpectrum(d);
  const shown = ok.slice(0, EXAMPLES_SAVED);
  tensors.set("delta_energy", torch.keep(m.energy.to("float32")));
  tensors.set("delta_magnitude", torch.keep(m.magnitude.to("float32")));
  tensors.set("delta_log_magnitude", torch.keep(m.logMagnitude.to("float32")));
  tensors.set("delta_examples", torch.keep(take(delta, shown).contiguous()));
  tensors.set("inputs_examples", torch.keep(take(x, shown).contiguous()));
  return tensors;
}

/** §7 A-9: β of each attacked example's predicted class; luminance DFT norms, also of unit-L2 β. */
function betaRows(rows: Rows, attack: string, module: Module, model: AttackModel, x: Tensor): Map<string, Tensor> {
  const shape = x.shape.slice(1);
  rows.scalar(attack, "linearity_gap", linearityGap(module, shape));
  const beta = linearPredictor(module, shape);
  const predicted = torch.noGrad(() => model.logits(x).argmax(1));
  const perExample = beta.indexSelect(0, predicted);
  const all = [...Array(x.shape[0]!).keys()];
  const s = summarizeSpectrum(perExample);
  rows.perExample(attack, "beta_hat_l1", all, numbers(s.l1));
  rows.perExample(attack, "beta_hat_l2", all, numbers(s.l2));
  const unit = summarizeSpectrum(perExample.div(perExample.flatten(1).norm(2, 1).clamp(1e-30).reshape(-1, ...shape.map(() => 1))));
  rows.perExample(attack, "beta_hat_unit_l1", all, numbers(unit.l1));
  rows.curve(attack, "beta_radial", numbers(s.radial.mean(0)));
  rows.curve(attack, "beta_angular", numbers(s.angular.mean(0)));
  return new Map([
    ["beta", torch.keep(beta.to("float32").contiguous())],
    // log|β̂_c| per class (luminance, centred), for the β̂ panels.
    ["beta_log_magnitude", torch.keep(centredSpectrum(beta).abs().log().to("float32").cpu().contiguous())],
  ]);
}

function pgdAttack(a: AttackSpec): PGD {
  return new PGD("linf", { steps: a.steps, absStepsize: a.stepsize, randomStart: a.randomStart });
}

export interface MeasureInput {
  spec: StudySpec;
  module: Module;
  linear: boolean;
  data: Dataset;
  key: RowKey;
  /** Absent when measuring the final checkpoint itself. */
  final?: FinalPerturbations;
  seed: number;
  /** This checkpoint's epoch is one of the breakpoint epochs. */
  breakpoints: boolean;
}

export function measureCheckpoint(m: MeasureInput): Measurement {
  const a = m.spec.attack!;
  const rows = new Rows(m.key);
  const model = new AttackModel(m.module);
  const tensors = new Map<string, Map<string, Tensor>>();
  const x = m.data.images;
  const y = m.data.labels;
  const pgd = attackAll(model, pgdAttack(a), m.data, a.eps, a.batchSize, m.seed);
  try {
    tensors.set(a.key, torch.tidy(() => perturbationRows(rows, a.key, x, pgd.delta, pgd.success, pgd.cleanCorrect)));
    if (m.linear) {
      const betas = torch.tidy(() => betaRows(rows, a.key, m.module, model, x));
      for (const [k, t] of betas) tensors.get(a.key)!.set(k, t);
    }
    if (m.spec.minimalNorm) {
      for (const norm of ["l2", "linf"] as const) {
        const key = `fmn-${norm}`;
        const r = attackAll(model, new FMN(norm, { steps: m.spec.minimalNorm.steps }), m.data, null, a.batchSize, m.seed);
        try {
          tensors.set(key, torch.tidy(() => perturbationRows(rows, key, x, r.delta, r.success, r.cleanCorrect)));
        } finally {
          torch.dispose(Object.values(r));
        }
      }
    }
    const final = m.final ?? pgd;
    if (m.final && m.spec.transfer) {
      torch.tidy(() => torch.noGrad(() => {
        // Paper A's success of the final model's δ on this checkpoint: clean correct and x + δ wrong.
        const clean = model.logits(x).argmax(1).eq(y);
        const fooled = model.logits(x.add(final.delta).clamp(0, 1)).argmax(1).ne(y);
        const n = y.shape[0]!;
        const correct = clean.sum().item();
        const success = clean.logicalAnd(fooled).sum().item();
        const key = `${a.key}@final`;
        rows.scalar(key, "clean_accuracy", (100 * correct) / n);
        rows.scalar(key, "success_rate", (100 * success) / n);
        rows.scalar(key, "success_rate_on_correct", correct ? (100 * success) / correct : 0);
      }));
    }
    if (m.breakpoints && m.spec.breakpoints) {
      const ok = indicesOf(final.success).slice(0, m.spec.breakpoints.examples);
      if (ok.length > 0) {
        torch.tidy(() => {
          const xs = take(x, ok);
          const d = take(final.delta, ok);
          const ys = take(y, ok);
          const adv = take(final.adversarialClass, ok);
          using g = new torch.Generator(m.seed);
          const points = m.spec.breakpoints!.points;
          for (const [suffix, direction] of [["adv", d], ["random", matchedRandom(d, g)]] as const) {
            const p = pathAnalysis(m.module, xs, direction, ys, adv, { points });
            rows.perExample(a.key, `flips_ever_${suffix}`, ok, numbers(p.everFlipped));
            rows.perExample(a.key, `flips_total_${suffix}`, ok, numbers(p.totalFlips));
            rows.perExample(a.key, `roughness_true_${suffix}`, ok, numbers(p.roughnessTrue));
            rows.perExample(a.key, `roughness_adv_${suffix}`, ok, numbers(p.roughnessAdv));
          }
        });
      }
    }
    if (m.spec.layerSpectra && m.key.final) {
      torch.tidy(() => {
        for (const layer of layerSpectra(m.module, x.shape.slice(1))) rows.curve("", `sv:${layer.name}`, numbers(layer.values));
      });
    }
  } catch (e) {
    torch.dispose(Object.values(pgd));
    for (const t of tensors.values()) torch.dispose([...t.values()]);
    throw e;
  }
  if (m.final === undefined && (m.spec.transfer || m.spec.breakpoints !== null)) {
    const t = tensors.get(a.key)!;
    t.set("final_delta", pgd.delta);
    t.set("final_success", pgd.success);
    t.set("final_adversarial_class", pgd.adversarialClass);
    torch.dispose(pgd.cleanCorrect);
  } else {
    torch.dispose(Object.values(pgd));
  }
  return { rows: rows.rows, tensors };
}
