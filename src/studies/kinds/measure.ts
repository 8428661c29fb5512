// `measure`: one checkpoint of a run, attacked with the study's attack (and further attacks, e.g.
// minimal-norm ones for the dynamics), the perturbations' spectra summarised per example, β of
// linear models, the transfer of the final checkpoint's perturbations, ReLU flips and roughness
// along the final checkpoint's adversarial vs random segments, layer spectra, and paper C's robust
// accuracy, margins, confidence and local Jacobian spectra (`regularization`). Rows go to the
// results; the tensors the report draws (mean spectra, examples, β) to <id>/<attack key>.safetensors.
//
// A spec with `checkpoints: "best" | "all"` is a template: once its run is trained it becomes one
// job per checkpoint, the final one (paper A's "final model") first when the others need its
// perturbations, which they then depend on.
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { attackBatches, type BatchAttackResult } from "../../attacks/batch.js";
import { type AttackRef, attackEpsilons, createAttack, resolveAttack } from "../../attacks/registry.js";
import { centredSpectrum, jacobianSpectra, layerSpectra, outputConfidence, summarizeSingularValues, linearPredictor, linearityGap, matchedRandom, meanSpectrum, minMaxLuminance, pathAnalysis, summarizeSpectrum } from "../../analysis/index.js";
import type { Dataset, Split } from "../../data/index.js";
import { AttackModel } from "../../nn/attack-model.js";
import type { Module } from "../../nn/module.js";
import { type CheckpointInfo, RunDir, epochCheckpoints } from "../../store/run.js";
import * as torch from "../../torch/index.js";
import type { Tensor } from "../../torch/index.js";
import { loadCheckpointModel, loadExamples, readRunConfig } from "../../train/run-model.js";
import { Progress } from "../../util/progress.js";
import { OptionError } from "../../util/schema.js";
import type { Dependency, JobContext, JobKind, JobResult } from "../graph.js";
import { type RowKey, Rows } from "../rows.js";

/** An attack of a study: the registered attack and the examples it runs on. */
export interface StudyAttack {
  /** Key of its rows and tensors files ('pgd-linf'). */
  key: string;
  attack: AttackRef;
  /** The first N examples of the split are attacked. */
  examples: number;
  split: Split;
  batchSize: number;
}

export interface MeasureInputs {
  /** Template: which checkpoints of the run to measure. */
  checkpoints?: "best" | "all";
  /** A job: the checkpoint file measured. */
  checkpoint?: string;
  /** Seed of the attacks' random starts and of the random directions. */
  seed: number;
  attack: StudyAttack;
  /** More attacks on the same examples (the dynamics' minimal-norm attacks), rows under their keys. */
  extraAttacks: { key: string; attack: AttackRef }[];
  /** Success of the final checkpoint's perturbations (of `attack`) on this checkpoint. */
  transfer: boolean;
  /**
   * ReLU flips and roughness at these epochs' checkpoints, along segments x → x + δ with δ from
   * `attack` run on the final checkpoint (paper A: 1000 test images), and along matched random ones.
   */
  breakpoints: { epochs: number[]; points: number; attack: StudyAttack } | null;
  /** Singular values of every layer at the best checkpoint. */
  layerSpectra: boolean;
  /** Measure β (exactly linear models). */
  linear: boolean;
  /**
   * Paper C's measurements at the best checkpoint: robust accuracy under `attack`, output margins
   * and confidence on the first `examples` training and test examples, the local Jacobian spectra
   * (top k) at the first `jacobianExamples` attacked examples, and summaries of the layer spectra.
   */
  regularization?: Regularization | null;
}

export interface Regularization {
  examples: number;
  jacobianExamples: number;
  k: number;
}

const EXAMPLES_SAVED = 8;
const tag = (c: CheckpointInfo | string) => (typeof c === "string" ? c : c.file).replace(/\.safetensors$/, "");
const numbers = (t: Tensor): number[] => Array.from(t.to("float64").toTypedArray() as Float64Array);
const indicesOf = (mask: Tensor): number[] => numbers(mask).flatMap((v, i) => (v ? [i] : []));
const take = (t: Tensor, idx: readonly number[]) => t.indexSelect(0, torch.tensor([...idx], { dtype: "int64" }));

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

/** β of each attacked example's predicted class; luminance DFT norms of β as it is, of unit-L2 β and of min–max scaled β (paper A, Table 1's scale). */
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
  const scaled = summarizeSpectrum(minMaxLuminance(perExample));
  rows.perExample(attack, "beta_hat_minmax_l1", all, numbers(scaled.l1));
  rows.perExample(attack, "beta_hat_minmax_l2", all, numbers(scaled.l2));
  rows.perExample(attack, "beta_hat_minmax_sparsity", all, numbers(scaled.sparsity));
  rows.curve(attack, "beta_radial", numbers(s.radial.mean(0)));
  rows.curve(attack, "beta_angular", numbers(s.angular.mean(0)));
  return new Map([
    ["beta", torch.keep(beta.to("float32").contiguous())],
    // log|β̂_c| per class (luminance, centred), for the β̂ panels.
    ["beta_log_magnitude", torch.keep(centredSpectrum(beta).abs().log().to("float32").cpu().contiguous())],
  ]);
}

/** The final checkpoint's perturbations of one attack, which transfer and breakpoints evaluate on other checkpoints. */
interface FinalPerturbations {
  delta: Tensor;
  /** bool [N]: the attack succeeded (paper A's definition). */
  success: Tensor;
  /** The final checkpoint's class for x + δ. */
  adversarialClass: Tensor;
}
const FINAL_KEYS = { delta: "final_delta", success: "final_success", adversarialClass: "final_adversarial_class" } as const;

/** Of a batch attack at one ε: δ, paper A's success, the clean correctness, the adversarial class; the rest is freed. */
function firstEpsilon(r: BatchAttackResult) {
  const out = {
    delta: r.delta[0]!, cleanCorrect: r.cleanCorrect,
    success: torch.tidy(() => r.successOnCorrect.select(0, 0).contiguous()), adversarialClass: torch.tidy(() => r.adversarialClass.select(0, 0).contiguous()),
  };
  torch.dispose([r.delta.slice(1), r.success, r.successOnCorrect, r.logits, r.adversarialClass, r.norms, r.targets]);
  return out;
}

function readFinalPerturbations(path: string): FinalPerturbations {
  const { tensors } = torch.loadSafetensors(path);
  const get = (k: string) => {
    const v = tensors.get(k);
    if (!v) {
      torch.dispose([...tensors.values()]);
      throw new Error(`${path}: lacks '${k}'; delete the file and rerun the study (its job is redone)`);
    }
    return v;
  };
  const out = { delta: get(FINAL_KEYS.delta), success: get(FINAL_KEYS.success), adversarialClass: get(FINAL_KEYS.adversarialClass) };
  for (const [k, t] of tensors) if (!k.startsWith("final_")) t.dispose();
  return out;
}

interface MeasureArgs {
  inputs: MeasureInputs;
  module: Module;
  /** The run's: attacks run the module as it was trained. */
  precision: torch.Precision;
  data: Dataset;
  key: RowKey;
  /** The final checkpoint's perturbations of the study's attack; absent when measuring the final checkpoint itself. */
  final?: FinalPerturbations;
  /**
   * The examples of the breakpoint attack and, except at the final checkpoint (which runs the
   * attack), its perturbations there; `analyse` at the breakpoint epochs.
   */
  breakpoints?: { data: Dataset; final?: FinalPerturbations; analyse: boolean };
  /** The examples whose margins and confidence paper C's measurements take. */
  regularization?: { train: Dataset; test: Dataset };
  progress?: Progress;
}

const summaryRows = (rows: Rows, family: "sv" | "jsv", name: string, values: Tensor, examples?: number[]) => {
  if (!examples) {
    const s = summarizeSingularValues(values);
    for (const k of ["max", "mean", "ratio", "entropy"] as const) rows.scalar("", `${family}_${k}:${name}`, s[k]);
    return;
  }
  const all = examples.map((_, n) => summarizeSingularValues(values.select(0, n)));
  for (const k of ["max", "mean", "ratio", "entropy"] as const) rows.perExample("", `${family}_${k}:${name}`, examples, all.map((s) => s[k]));
};

/** Paper C's rows: robust accuracy, margins and confidence per split, local Jacobian spectra. */
function regularizationRows(rows: Rows, m: MeasureArgs, model: AttackModel, pgd: { cleanCorrect: Tensor; success: Tensor }): void {
  const r = m.inputs.regularization!;
  const n = pgd.cleanCorrect.shape[0]!;
  const sum = (t: Tensor) => numbers(t).reduce((a, b) => a + b, 0);
  // Paper A's success is clean-correct and fooled: the rest of the clean-correct examples resist.
  rows.scalar(m.inputs.attack.key, "robust_accuracy", (100 * (sum(pgd.cleanCorrect) - sum(pgd.success))) / n);
  for (const [split, d] of Object.entries(m.regularization!)) {
    torch.tidy(() => {
      const c = outputConfidence(torch.noGrad(() => model.logits(d.images)), d.labels);
      const all = [...Array(d.labels.shape[0]!).keys()];
      rows.perExample(split, "output_margin", all, numbers(c.margin));
      rows.perExample(split, "confidence", all, numbers(c.confidence));
      rows.perExample(split, "softmax_entropy", all, numbers(c.entropy));
    });
  }
  const count = Math.min(r.jacobianExamples, m.data.labels.shape[0]!);
  torch.tidy(() => {
    const x = m.data.images.narrow(0, 0, count);
    for (const j of jacobianSpectra(m.module, x, { k: r.k, seed: m.inputs.seed })) {
      summaryRows(rows, "jsv", j.name.replace(/^input→/, ""), j.values, [...Array(count).keys()]);
    }
  });
}

function measureCheckpoint(m: MeasureArgs): { rows: Rows; tensors: Map<string, Map<string, Tensor>> } {
  const a = m.inputs.attack;
  const rows = new Rows(m.key);
  const model = new AttackModel(m.module, { precision: m.precision });
  const tensors = new Map<string, Map<string, Tensor>>();
  const x = m.data.images;
  const y = m.data.labels;
  const run = (ref: AttackRef, on: Dataset = m.data, batchSize = a.batchSize): BatchAttackResult => {
    let done = 0;
    return attackBatches(model, createAttack(ref), on.images, on.labels, {
      epsilons: attackEpsilons(ref), batchSize, seed: m.inputs.seed,
      onBatch: (n) => { m.progress?.tick(n - done); done = n; },
    });
  };
  const pgd = firstEpsilon(run(a.attack));
  const bp = m.inputs.breakpoints;
  // At the final checkpoint the breakpoint attack runs here; its δ serve every breakpoint epoch.
  const bpOwn = m.breakpoints && !m.breakpoints.final ? firstEpsilon(run(bp!.attack.attack, m.breakpoints.data, bp!.attack.batchSize)) : undefined;
  try {
    tensors.set(a.key, torch.tidy(() => perturbationRows(rows, a.key, x, pgd.delta, pgd.success, pgd.cleanCorrect)));
    if (m.inputs.linear) {
      const betas = torch.tidy(() => betaRows(rows, a.key, m.module, model, x));
      for (const [k, t] of betas) tensors.get(a.key)!.set(k, t);
    }
    for (const extra of m.inputs.extraAttacks) {
      const r = firstEpsilon(run(extra.attack));
      try {
        tensors.set(extra.key, torch.tidy(() => perturbationRows(rows, extra.key, x, r.delta, r.success, r.cleanCorrect)));
      } finally {
        torch.dispose(r);
      }
    }
    if (m.final && m.inputs.transfer) {
      const final = m.final;
      torch.tidy(() => torch.noGrad(() => {
        // Paper A's success of the final checkpoint's δ on this checkpoint: clean correct and x + δ wrong.
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
    if (bpOwn) {
      const n = m.breakpoints!.data.labels.shape[0]!;
      const successes = numbers(bpOwn.success).reduce((u, v) => u + v, 0);
      rows.scalar(bp!.attack.key, "examples", n);
      rows.scalar(bp!.attack.key, "successes", successes);
      rows.scalar(bp!.attack.key, "success_rate", (100 * successes) / n);
    }
    const reference = m.breakpoints?.final ?? bpOwn;
    if (m.breakpoints?.analyse && reference) {
      const { images, labels } = m.breakpoints.data;
      const ok = indicesOf(reference.success);
      const key = bp!.attack.key;
      if (ok.length > 0) {
        torch.tidy(() => {
          const xs = take(images, ok);
          const d = take(reference.delta, ok);
          const ys = take(labels, ok);
          const adv = take(reference.adversarialClass, ok);
          using g = new torch.Generator(m.inputs.seed);
          for (const [suffix, direction] of [["adv", d], ["random", matchedRandom(d, g)]] as const) {
            const p = pathAnalysis(m.module, xs, direction, ys, adv, { points: bp!.points });
            rows.perExample(key, `flips_ever_${suffix}`, ok, numbers(p.everFlipped));
            rows.perExample(key, `flips_total_${suffix}`, ok, numbers(p.totalFlips));
            rows.perExample(key, `roughness_true_${suffix}`, ok, numbers(p.roughnessTrue));
            rows.perExample(key, `roughness_adv_${suffix}`, ok, numbers(p.roughnessAdv));
          }
        });
      }
    }
    const regularization = Boolean(m.inputs.regularization) && m.key.best;
    if (m.inputs.layerSpectra && m.key.best) {
      torch.tidy(() => {
        for (const layer of layerSpectra(m.module, x.shape.slice(1), { reshaped: regularization })) {
          const name = layer.kind === "conv-reshaped" ? `${layer.name} (reshaped)` : layer.name;
          rows.curve("", `sv:${name}`, numbers(layer.values));
          if (regularization) summaryRows(rows, "sv", name, layer.values);
        }
      });
    }
    if (regularization) regularizationRows(rows, m, model, pgd);
  } catch (e) {
    torch.dispose([pgd, bpOwn]);
    for (const t of tensors.values()) torch.dispose([...t.values()]);
    throw e;
  }
  // The final checkpoint keeps the perturbations the other checkpoints evaluate.
  const keepFinal = (key: string, p: ReturnType<typeof firstEpsilon>) => {
    const t = tensors.get(key) ?? tensors.set(key, new Map()).get(key)!;
    t.set(FINAL_KEYS.delta, p.delta);
    t.set(FINAL_KEYS.success, p.success);
    t.set(FINAL_KEYS.adversarialClass, p.adversarialClass);
    torch.dispose(p.cleanCorrect);
  };
  if (m.final === undefined && m.inputs.transfer) keepFinal(a.key, pgd);
  else torch.dispose(pgd);
  if (bpOwn) keepFinal(bp!.attack.key, bpOwn);
  return { rows, tensors };
}

function checkAttack(where: string, a: { key?: unknown; attack?: unknown }): void {
  if (typeof a?.key !== "string" || a.key === "") throw new OptionError(`${where}.key: expected a non-empty string`);
  try {
    resolveAttack(a.attack as AttackRef);
  } catch (e) {
    throw new OptionError(`${where}.attack: ${(e as Error).message}`);
  }
}

function checkStudyAttack(where: string, a: Partial<StudyAttack> | undefined): void {
  checkAttack(where, a ?? {});
  if (!Number.isSafeInteger(a!.examples) || a!.examples! < 1) throw new OptionError(`${where}.examples must be an integer ≥ 1`);
  if (a!.split !== "train" && a!.split !== "test") throw new OptionError(`${where}.split is ${JSON.stringify(a!.split)}; allowed: "train" | "test"`);
}

export const measure: JobKind = {
  name: "measure",
  summary: "attack one checkpoint of a run and measure the perturbations (spectra, β, transfer, breakpoints, layer spectra)",
  check(spec) {
    const i = spec.inputs as Partial<MeasureInputs>;
    if (!spec.deps?.run) throw new OptionError(`${spec.id}: a measure job needs the run it measures (deps.run)`);
    if ((i.checkpoints === undefined) === (i.checkpoint === undefined)) throw new OptionError(`${spec.id}: give exactly one of inputs.checkpoints ("best" | "all") and inputs.checkpoint`);
    if (i.checkpoints !== undefined && i.checkpoints !== "best" && i.checkpoints !== "all") throw new OptionError(`${spec.id}: inputs.checkpoints is ${JSON.stringify(i.checkpoints)}; allowed: "best" | "all"`);
    checkStudyAttack(`${spec.id}: inputs.attack`, i.attack);
    for (const [k, e] of (i.extraAttacks ?? []).entries()) checkAttack(`${spec.id}: inputs.extraAttacks[${k}]`, e);
    const r = i.regularization;
    if (r) {
      for (const k of ["examples", "jacobianExamples", "k"] as const) {
        if (!Number.isSafeInteger(r[k]) || r[k] < 1) throw new OptionError(`${spec.id}: inputs.regularization.${k} must be an integer ≥ 1`);
      }
      if (typeof i.attack!.attack.eps !== "number") throw new OptionError(`${spec.id}: inputs.regularization needs a fixed-ε attack (its robust accuracy), got ε ${JSON.stringify(i.attack!.attack.eps)}`);
    }
    if (i.breakpoints) {
      checkStudyAttack(`${spec.id}: inputs.breakpoints.attack`, i.breakpoints.attack);
      if (i.breakpoints.attack.key === i.attack!.key) throw new OptionError(`${spec.id}: inputs.breakpoints.attack.key must differ from inputs.attack.key ('${i.attack!.key}')`);
    }
  },
  isTemplate: (spec) => (spec.inputs as Partial<MeasureInputs>).checkpoints !== undefined,
  expand(spec, deps) {
    const run = deps.run!;
    if (run.record.info.diverged) return [];
    const i = spec.inputs as unknown as MeasureInputs;
    const index = new RunDir(run.dir).index();
    const best = index.checkpoints.find((c) => c.file === index.best);
    // The last epoch's checkpoint: paper A's "final model", whose perturbations transfer and breakpoints evaluate.
    const final = epochCheckpoints(index).at(-1);
    if (!best || !final) throw new Error(`${new RunDir(run.dir).indexPath}: the run has no ${best ? "epoch" : "best"} checkpoint; delete ${run.dir} and rerun`);
    const needsFinal = i.transfer || i.breakpoints !== null;
    if (best.removed) throw new Error(`${new RunDir(run.dir).indexPath}: the best checkpoint's file was deleted by the run's keep setting; train it with keep "best" or "all"`);
    const measured = i.checkpoints === "all" ? index.checkpoints.filter((c) => !c.removed) : [best];
    const ordered = needsFinal ? [final, ...measured.filter((c) => c !== final)] : measured;
    const { checkpoints: _, ...rest } = i;
    const id = (c: CheckpointInfo) => `${spec.id}/${tag(c)}`;
    return ordered.map((c) => ({
      id: id(c), kind: "measure", tags: spec.tags, inputs: { ...rest, checkpoint: c.file },
      deps: { run: spec.deps!.run!, ...(needsFinal && c !== final ? { final: id(final) } : {}) },
    }));
  },
  run(ctx: JobContext): JobResult {
    const i = ctx.spec.inputs as unknown as MeasureInputs;
    const runDep: Dependency = ctx.deps.run!;
    const run = new RunDir(runDep.dir);
    const config = readRunConfig(run);
    const index = run.index();
    const c = index.checkpoints.find((x) => x.file === i.checkpoint);
    if (!c) throw new Error(`${run.indexPath}: no checkpoint ${i.checkpoint}`);
    const data = loadExamples(run, config, i.attack.split, i.attack.examples, ctx.dataDir);
    const bp = i.breakpoints;
    const finalDep = ctx.deps.final;
    // Breakpoints at epoch checkpoints only (the paper's snapshots are epochs).
    const atBreakpoint = bp !== null && c.file === RunDir.epochFile(c.epoch) && bp.epochs.includes(c.epoch);
    const isFinal = bp !== null && finalDep === undefined;
    const read = (attack: StudyAttack) => (finalDep ? readFinalPerturbations(join(finalDep.dir, `${attack.key}.safetensors`)) : undefined);
    const module = loadCheckpointModel(run, config, c);
    const final = i.transfer ? read(i.attack) : undefined;
    const breakpoints = atBreakpoint || isFinal
      ? { data: loadExamples(run, config, bp!.attack.split, bp!.attack.examples, ctx.dataDir), final: read(bp!.attack), analyse: atBreakpoint }
      : undefined;
    const regularization = i.regularization && c.file === index.best
      ? { train: loadExamples(run, config, "train", i.regularization.examples, ctx.dataDir), test: loadExamples(run, config, "test", i.regularization.examples, ctx.dataDir) }
      : undefined;
    const attacked = data.labels.shape[0]! * (1 + i.extraAttacks.length) + (breakpoints && !breakpoints.final ? breakpoints.data.labels.shape[0]! : 0);
    const progress = ctx.progress ? new Progress(`measure ${tag(c)}`, attacked, "img") : undefined;
    try {
      const m = measureCheckpoint({
        inputs: i, module, precision: config.precision ?? "fp32", data, final, breakpoints, regularization, progress,
        key: { ...ctx.spec.tags, checkpoint: tag(c), epoch: c.epoch, iteration: c.iteration, best: c.file === index.best },
      });
      const files: string[] = [];
      try {
        for (const [attackKey, tensors] of m.tensors) {
          if (tensors.size === 0) continue;
          mkdirSync(ctx.dir, { recursive: true });
          const path = join(ctx.dir, `${attackKey}.safetensors`);
          torch.saveSafetensors(path, tensors, { model: ctx.spec.tags.model, checkpoint: tag(c), attack: attackKey, epoch: String(c.epoch), iteration: String(c.iteration) });
          files.push(relative(ctx.root, path));
        }
      } finally {
        for (const t of m.tensors.values()) torch.dispose([...t.values()]);
      }
      return { rows: m.rows.rows, files, info: { checkpoint: c.file, best: c.file === index.best } };
    } finally {
      module.dispose();
      torch.dispose([data, final, breakpoints?.data, breakpoints?.final, regularization?.train, regularization?.test]);
    }
  },
};
