// Paper B's experiments (Kumano, Kera & Yamasaki, ICLR 2024; docs/studies.md) as study specs.
// perturbation-theory: the artificial setting, one `perturbation-theory` job per noise × norm (×
// sweep value), at the defaults or along one axis (d, N, N^adv, ε) as its Fig. 2 and appendix graphs;
// the networks f and h it reads are `theory-net` jobs, one per setting they depend on, shared by the
// cells (f and h do not depend on the norm or the budget).
// perturbation-learning: real images; per dataset a standard model, then per scenario × norm an
// attack-set → derive-dataset → a fresh model trained on the perturbation set alone.
import type { AttackRef } from "../attacks/registry.js";
import { type DatasetName, NORMALIZATION, imageShape } from "../data/index.js";
import type { JobSpec, ModelEntry, StudySpec } from "../store/study-folder.js";
import type { Table, TableColumn } from "../store/tables.js";
import type { AttackSetInputs, DeriveInputs, TrainInputs } from "./kinds/index.js";
import { THEORY_NOISES, THEORY_NORMS, type TheoryInputs, type TheoryNetInputs, theoryNetInputs } from "./kinds/perturbation-theory.js";
import { type Scale, studyDataset } from "./spec.js";

export const THEORY_SWEEPS = ["d", "n", "nadv", "eps"] as const;
export type TheorySweep = (typeof THEORY_SWEEPS)[number];

export interface TheoryOptions {
  scale: Scale;
  seeds?: number[];
  sweep?: TheorySweep;
  /** Override the scale's full-batch iterations. */
  iterations?: number;
}

type Norm = TheoryInputs["norm"];
type Noise = TheoryInputs["noise"];
type Sizes = Pick<TheoryInputs, "d" | "n" | "nAdv" | "width" | "steps" | "iterations" | "map">;

/**
 * Paper scale: the paper's defaults (d 10⁴, N 10³, N^adv 10⁴, m 10³, 100 attack steps, 100,000
 * iterations). Demo: the size at which a PyTorch run of the same setting gave acc(g) 0.93–0.96 with
 * 2,000 iterations. Smoke: seconds.
 */
const SIZES: Record<Scale, Sizes> = {
  smoke: { d: 400, n: 20, nAdv: 200, width: 20, steps: 20, iterations: 300, map: 24 },
  demo: { d: 2000, n: 100, nAdv: 1000, width: 100, steps: 100, iterations: 2000, map: 120 },
  paper: { d: 10000, n: 1000, nAdv: 10000, width: 1000, steps: 100, iterations: 100_000, map: 500 },
};

/** Paper B's budgets at d: L2 ε = 0.0078·√d (0.78 at d = 10⁴), L∞ ε = 0.03, L0 5 % of the coordinates. */
export const defaultEps = (norm: Norm, d: number): number => (norm === "l2" ? 0.0078 * Math.sqrt(d) : norm === "linf" ? 0.03 : 0.05);

/** The paper's sweep values (its artificial.sh); reduced scales sweep the same fractions of their own defaults. */
const PAPER_SWEEPS: Record<Exclude<TheorySweep, "eps">, number[]> = {
  d: [100, 500, 1000, 2500, 5000, 7500, 10000],
  n: [1000, 2000, 3000, 5000, 7000, 10000],
  nadv: [1, 10, 100, 500, 1000, 1500, 2500, 5000, 7500, 10000],
};
const PAPER_EPS: Record<Norm, number[]> = {
  l0: [0.0001, 0.0004, 0.0008, 0.001, 0.002, 0.004, 0.006, 0.008, 0.01, 0.02, 0.03, 0.04, 0.05],
  l2: [0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.78],
  linf: [0.001, 0.005, 0.01, 0.015, 0.02, 0.03],
};
const REDUCED: Record<TheorySweep, number[]> = { d: [0.125, 0.25, 0.5, 1], n: [0.5, 1, 2], nadv: [0.02, 0.1, 0.5, 1], eps: [0.1, 0.25, 0.5, 1] };

const NORM_LABEL: Record<Norm, string> = { l0: "L0", l2: "L2", linf: "L∞" };

interface Cell {
  key: string;
  label: string;
  noise: Noise;
  norm: Norm;
  inputs: Omit<TheoryInputs, "seed">;
  /** The swept value (undefined at the defaults). */
  x?: number;
}

function cells(o: TheoryOptions): Cell[] {
  const s = { ...SIZES[o.scale], ...(o.iterations ? { iterations: o.iterations } : {}) };
  const out: Cell[] = [];
  for (const noise of THEORY_NOISES) {
    for (const norm of THEORY_NORMS) {
      const base = { noise, norm, ...s, eps: defaultEps(norm, s.d), lr: 0.01, momentum: 0.9 };
      if (!o.sweep) {
        out.push({ key: noise, label: `${noise} noise`, noise, norm, inputs: base });
        continue;
      }
      const sweep = o.sweep;
      const values = o.scale === "paper"
        ? (sweep === "eps" ? PAPER_EPS[norm] : PAPER_SWEEPS[sweep])
        : REDUCED[sweep].map((f) => {
          const v = sweep === "eps" ? base.eps : sweep === "d" ? s.d : sweep === "n" ? s.n : s.nAdv;
          return sweep === "eps" ? Number((f * v).toPrecision(3)) : Math.max(1, Math.round(f * v));
        });
      for (const x of values) {
        const inputs = sweep === "d" ? { ...base, d: x, eps: defaultEps(norm, x) }
          : sweep === "n" ? { ...base, n: x } : sweep === "nadv" ? { ...base, nAdv: x } : { ...base, eps: x };
        // ε differs per norm: the eps sweep's rows are per norm too.
        const key = sweep === "eps" ? `${noise}-${norm}-eps${x}` : `${noise}-${sweep}${x}`;
        out.push({ key, label: `${noise}, ${sweep === "nadv" ? "N^adv" : sweep === "n" ? "N" : sweep === "d" ? "d" : `${NORM_LABEL[norm]} ε`} = ${x}`, noise, norm, inputs, x });
      }
    }
  }
  return out;
}

const accuracyColumns = (norms: readonly Norm[]): TableColumn[] => norms.flatMap((norm) => [
  { quantity: "acc_g", label: `${NORM_LABEL[norm]} adversarial (g)`, attack: norm },
  { quantity: "acc_h", label: `${NORM_LABEL[norm]} noise (h)`, attack: norm },
]);

const CHECK_COLUMNS: TableColumn[] = [
  { quantity: "acc_f", label: "acc(f, D)" },
  { quantity: "final_loss_f", label: "final loss(f)" },
  { quantity: "bdy_agreement", label: "sgn f = sgn f^bdy on D" },
  { quantity: "bdy_agreement_fresh", label: "on fresh points" },
  { quantity: "lambda_min", label: "min λ" },
  { quantity: "lambda_max", label: "max λ" },
  { quantity: "orth_pmax", label: "p_max" },
  { quantity: "orth_bound", label: "γ³R⁴min/(3NR²max)" },
];

export function perturbationTheorySpec(o: TheoryOptions): StudySpec {
  const all = cells(o);
  const seeds = o.seeds ?? [0];
  const models = new Map<string, ModelEntry>();
  for (const c of all) {
    if (!models.has(c.key)) {
      models.set(c.key, {
        key: c.key, label: c.label, name: "onehidden", linear: false,
        options: { noise: c.noise, d: c.inputs.d, n: c.inputs.n, nAdv: c.inputs.nAdv, width: c.inputs.width, ...(o.sweep === "eps" ? { eps: c.inputs.eps } : {}) },
        ...(o.sweep ? { group: o.sweep === "eps" ? `${c.noise}-${c.norm}` : c.noise } : {}),
      });
    }
  }
  const nets = new Map<string, JobSpec>();
  const net = (inputs: TheoryInputs, set: TheoryNetInputs["set"]): string => {
    const n = theoryNetInputs(inputs, set);
    const id = `nets/${n.noise}-d${n.d}-${set === "natural" ? "n" : "nadv"}${n.n}/${set === "natural" ? "f" : "h"}/seed-${n.seed}`;
    if (!nets.has(id)) nets.set(id, { id, kind: "theory-net", tags: { dataset: "orthogonal", model: `${n.noise}-${set === "natural" ? "f" : "h"}`, seed: n.seed }, inputs: { ...n } });
    return id;
  };
  const cellJobs: JobSpec[] = all.flatMap((c) => seeds.map((seed) => {
    const inputs: TheoryInputs = { ...c.inputs, seed };
    return {
      id: `cells/${c.key}/${c.norm}/seed-${seed}`, kind: "perturbation-theory",
      tags: { dataset: "orthogonal", model: c.key, seed }, inputs: { ...inputs }, deps: { f: net(inputs, "natural"), h: net(inputs, "noise") },
    };
  }));
  const jobs = [...nets.values(), ...cellJobs];
  const s = all[0]!.inputs;
  const setting = `d = ${o.sweep === "d" ? "swept" : s.d}, N = ${o.sweep === "n" ? "swept" : s.n}, N^adv = ${o.sweep === "nadv" ? "swept" : s.nAdv}, m = ${s.width}, ${s.iterations} full-batch iterations per training`;
  const note = `Accuracy on the natural training set D (1 = all correct, 0.5 = chance) of g, trained only on noise perturbed toward random targets against f, and of h, trained on the same noise and labels unperturbed; ${setting}; mean over seeds.`;
  const keys = [...models.keys()];
  const tables: Table[] = o.sweep
    ? [...new Set(all.map((c) => (o.sweep === "eps" ? `${c.noise}-${c.norm}` : c.noise)))].map((group) => ({
      id: `sweep-${group}`, title: `Accuracy on D against ${o.sweep === "nadv" ? "N^adv" : o.sweep} (${group})`, attack: "",
      columns: accuracyColumns(o.sweep === "eps" ? [group.split("-")[1] as Norm] : THEORY_NORMS), rows: keys.filter((k) => models.get(k)!.group === group).map((model) => ({ model })), note,
    }))
    : [
      { id: "accuracy", title: "Learning from adversarial perturbations on noise: accuracy on D", attack: "", columns: accuracyColumns(THEORY_NORMS), rows: keys.map((model) => ({ model })), note },
      {
        id: "theory", title: "The standard network f and the linear boundary f^bdy", attack: "l2", columns: CHECK_COLUMNS, rows: keys.map((model) => ({ model })),
        note: "f^bdy(z) = Σ λ_n y_n ⟨x_n, z⟩ with λ from the hard-margin SVM dual on D; the theorem puts λ (rescaled) in (1/(2R²max), 3/(2γ²R²min)) and needs γ³R⁴min/(3NR²max) > p_max (near-orthogonality).",
      },
    ];
  return {
    study: "perturbation-theory", scale: o.scale,
    description: "Paper B, §5.1, Fig. 2: networks trained only on adversarially perturbed noise classify the natural data; the pure-noise baseline stays at chance",
    models: [...models.values()], tables, jobs,
  };
}

// ---- perturbation-learning: real data ----

export interface LearningOptions {
  scale: Scale;
  /** Default: the scale's (fourier-classes at smoke and demo, MNIST, Fashion-MNIST and CIFAR-10 at paper scale). */
  datasets?: DatasetName[];
  seeds?: number[];
  epochs?: number;
  trainExamples?: number;
  testExamples?: number;
  attackSteps?: number;
  attackExamples?: number;
  /** Noise-set sizes of the noise-size sweep (paper B's MNIST/FMNIST graph: 60 000 … 1 200 000); none by default. */
  noiseSizes?: number[];
}

const SCENARIOS = ["natural_rand", "natural_det", "uniform"] as const;
type Scenario = (typeof SCENARIOS)[number];
const SCENARIO_LABEL: Record<Scenario, string> = {
  natural_rand: "natural images, random wrong targets", natural_det: "natural images, targets (y + 1) mod K", uniform: "uniform noise, random targets",
};

/** Paper B's budgets (its create.py): L0 coordinates changed, L2 and L∞ ε. Other sets take those of a set with as many channels. */
const BUDGETS: Record<string, Record<Norm, number>> = {
  mnist: { l0: 10, l2: 2, linf: 0.3 },
  "fashion-mnist": { l0: 35, l2: 2, linf: 0.3 },
  cifar10: { l0: 150, l2: 0.5, linf: 0.1 },
};

interface LearningScale {
  synthetic: { size: number; train: number; test: number; amplitude: number };
  /** First N examples of a real set (all at paper scale). */
  real?: { train: number; test: number };
  /** Epochs of the standard model and of the models on perturbation sets (paper: per set, below). */
  epochs: number;
  steps: number;
  /** Training images attacked (natural scenarios) and noise images drawn (uniform); all at paper scale. */
  examples?: number;
}

const LEARNING_SCALES: Record<Scale, LearningScale> = {
  smoke: { synthetic: { size: 16, train: 256, test: 64, amplitude: 0.1 }, real: { train: 256, test: 64 }, epochs: 1, steps: 5, examples: 64 },
  demo: { synthetic: { size: 32, train: 2000, test: 500, amplitude: 0.1 }, real: { train: 2000, test: 500 }, epochs: 5, steps: 20, examples: 1000 },
  paper: { synthetic: { size: 32, train: 10000, test: 2000, amplitude: 0.1 }, epochs: 0, steps: 100 },
};

/** The paper's epochs (MNIST 100, Fashion-MNIST and CIFAR-10 200, MNIST/FMNIST noise sets 300) and its learning-rate exceptions (0.01). */
function paperTraining(dataset: string, scenario: Scenario | "source", norm?: Norm): { epochs: number; lr?: number } {
  const gray = dataset === "mnist" || dataset === "fashion-mnist";
  const epochs = gray && scenario === "uniform" ? 300 : dataset === "mnist" ? 100 : 200;
  const low = gray ? scenario === "uniform" || (scenario !== "source" && norm !== "l0") : scenario === "natural_rand" && norm === "linf";
  return { epochs, ...(low ? { lr: 0.01 } : {}) };
}

export function perturbationLearningSpec(o: LearningOptions): StudySpec {
  const s = LEARNING_SCALES[o.scale];
  const names = o.datasets?.length ? o.datasets : o.scale === "paper" ? (["mnist", "fashion-mnist", "cifar10"] as DatasetName[]) : (["fourier-classes"] as DatasetName[]);
  const seeds = o.seeds ?? [0];
  const paper = o.scale === "paper";
  const jobs: JobSpec[] = [];
  const tables: Table[] = [];
  const models = new Map<string, ModelEntry>();
  for (const name of names) {
    const ref = studyDataset(name, s.synthetic);
    const [channels] = imageShape(ref);
    const budget = BUDGETS[name] ?? BUDGETS[channels === 1 ? "fashion-mnist" : "cifar10"]!;
    // The paper's networks behind its normalisation wrapper; a small conv net that trains in seconds elsewhere.
    const net = paper
      ? { name: channels === 1 ? "convnet-mnist" : "wrn-28-10", options: { normalize: (NORMALIZATION as Record<string, { mean: readonly number[]; std: readonly number[] }>)[name] ?? null } }
      : { name: "bwconv", options: { channels: 32, activation: "relu" } };
    const optim = paper ? undefined : { optimizer: "sgd" as const, lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 5e-4, schedule: "constant" as const };
    // The attack sets read the source model's best checkpoint; the other models are measured by their metrics alone.
    const base: TrainInputs["train"] = {
      epochs: s.epochs, batchSize: 128, augment: paper && channels === 3, keep: "best",
      ...(name !== "fourier-classes" && s.real ? { trainExamples: s.real.train, testExamples: s.real.test } : {}),
      ...(o.trainExamples !== undefined ? { trainExamples: o.trainExamples } : {}),
      ...(o.testExamples !== undefined ? { testExamples: o.testExamples } : {}),
    };
    const training = (scenario: Scenario | "source", norm?: Norm): Pick<TrainInputs, "train" | "optim"> => {
      const p = paperTraining(name, scenario, norm);
      return {
        train: { ...base, epochs: o.epochs ?? (paper ? p.epochs : s.epochs) },
        ...(optim ? { optim } : p.lr ? { optim: { lr: p.lr } } : {}),
      };
    };
    const entry = (key: string, label: string) => models.set(key, { key, label, name: net.name, options: net.options, linear: false });
    entry("source", "standard model (trained on the clean set)");
    for (const sc of SCENARIOS) entry(sc, `trained on ${SCENARIO_LABEL[sc]} + δ`);
    for (const seed of seeds) {
      const run = `runs/${name}/source/seed-${seed}`;
      jobs.push({ id: run, kind: "train", tags: { dataset: name, model: "source", seed }, inputs: { model: net, dataset: ref, seed, ...training("source") } });
      for (const scenario of SCENARIOS) {
        for (const norm of THEORY_NORMS) {
          const tags = { dataset: `${name}-${norm}`, model: scenario, seed };
          const where = `${name}/${scenario}-${norm}/seed-${seed}`;
          const attack: AttackRef = { attack: "paper-b-pgd", norm, eps: budget[norm], options: norm === "l0" ? {} : { steps: o.attackSteps ?? s.steps } };
          const set: AttackSetInputs = {
            key: `${scenario}-${norm}`, attack, checkpoint: "best", split: "train", examples: o.attackExamples ?? s.examples ?? trainSize(name, base), batchSize: 250,
            targets: scenario === "natural_det" ? "next" : "random", seed, ...(scenario === "uniform" ? { base: "uniform" } : {}),
          };
          jobs.push({ id: `sets/${where}/attack`, kind: "attack-set", tags, inputs: { ...set }, deps: { run } });
          const derive: DeriveInputs = { labels: "targets" };
          jobs.push({ id: `sets/${where}/data`, kind: "derive-dataset", tags, inputs: { ...derive }, deps: { set: `sets/${where}/attack` } });
          jobs.push({ id: `runs/${where}`, kind: "train", tags, inputs: { model: net, dataset: { from: "set" }, seed, ...training(scenario, norm) }, deps: { set: `sets/${where}/data` } });
        }
      }
    }
    const sizes = [...new Set(o.noiseSizes ?? [])].sort((a, b) => a - b);
    for (const size of sizes) models.set(`uniform-n${size}`, { key: `uniform-n${size}`, label: `${size} noise images + δ`, name: net.name, options: { ...net.options, noiseImages: size }, linear: false, group: "noise-size" });
    // One attack of the largest noise set per norm; each size is its first images.
    for (const seed of sizes.length ? seeds : []) {
      for (const norm of THEORY_NORMS) {
        const attackId = `sets/${name}/uniform-${norm}-sizes/seed-${seed}/attack`;
        const set: AttackSetInputs = {
          key: `uniform-${norm}-sizes`, attack: { attack: "paper-b-pgd", norm, eps: budget[norm], options: norm === "l0" ? {} : { steps: o.attackSteps ?? s.steps } },
          checkpoint: "best", split: "train", examples: sizes.at(-1)!, batchSize: 250, targets: "random", seed, base: "uniform",
        };
        jobs.push({ id: attackId, kind: "attack-set", tags: { dataset: `${name}-${norm}`, model: "uniform-sizes", seed }, inputs: { ...set }, deps: { run: `runs/${name}/source/seed-${seed}` } });
        for (const size of sizes) {
          const tags = { dataset: `${name}-${norm}`, model: `uniform-n${size}`, seed };
          const where = `${name}/uniform-${norm}-n${size}/seed-${seed}`;
          const derive: DeriveInputs = { labels: "targets", examples: size };
          jobs.push({ id: `sets/${where}/data`, kind: "derive-dataset", tags, inputs: { ...derive }, deps: { set: attackId } });
          jobs.push({ id: `runs/${where}`, kind: "train", tags, inputs: { model: net, dataset: { from: "set" }, seed, ...training("uniform", norm) }, deps: { set: `sets/${where}/data` } });
        }
      }
    }
    const columns: TableColumn[] = THEORY_NORMS.flatMap((norm) => [
      { quantity: "test_accuracy", label: `${NORM_LABEL[norm]} acc. %`, dataset: `${name}-${norm}`, attack: "" },
      { quantity: "fool_rate", label: `${NORM_LABEL[norm]} fool %`, dataset: `${name}-${norm}`, attack: "" },
    ]);
    const budgets = `L0 ${budget.l0} coordinates, L2 ε = ${budget.l2}, L∞ ε = ${budget.linf}`;
    tables.push(
      { id: `source-${name}`, title: `Standard model — ${name}`, attack: "", columns: [{ quantity: "test_accuracy", label: "test acc. %", dataset: name }], rows: [{ model: "source" }] },
      {
        id: `learning-${name}`, title: `Learning from perturbations only — ${name}: clean test accuracy (best epoch)`, attack: "", columns, rows: SCENARIOS.map((model) => ({ model })),
        note: `Each model is trained only on x + δ with the attack's target labels (${budgets}; paper B's targeted PGD against the standard model, ` +
          `${o.attackSteps ?? s.steps} steps for L2/L∞), then tested on the clean test set (chance: 100/K % for K classes). ` +
          "fool %: how often the standard model classifies x + δ as its new label (paper B's check of a set). The paper's table was not published in retrievable form: compare qualitatively (well above chance).",
      },
      ...(sizes.length ? [{
        id: `noise-size-${name}`, title: `Learning from perturbed noise against the number of noise images — ${name}`, attack: "", columns,
        rows: sizes.map((n) => ({ model: `uniform-n${n}` })),
        note: "Each row's set is the first N images of one attack of the largest noise set (uniform noise, random targets); paper B's graph expects accuracy to rise with N.",
      }] : []),
    );
  }
  return {
    study: "perturbation-learning", scale: o.scale,
    description: "Paper B, §5.2: models trained only on mislabeled adversarial examples or on perturbed noise classify clean test images above chance",
    models: [...models.values()], tables, jobs,
  };
}

/** The training examples a run of the set uses (the attack-set attacks all of them at paper scale). */
function trainSize(name: DatasetName, train: TrainInputs["train"]): number {
  return train.trainExamples ?? (name === "cifar10" ? 50000 : name === "fourier-classes" ? LEARNING_SCALES.paper.synthetic.train : 60000);
}
