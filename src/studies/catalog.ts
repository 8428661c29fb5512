// Paper A's experiments (v1 Tables 1, 2, 4, Figs. 2–11, and the later versions' sweeps; docs/studies.md) as study specs, at three scales. The paper scale
// uses the paper's settings (its code's where the text is silent); demo and smoke shrink data, epochs, attack
// steps and model lists so the same graph runs in minutes or seconds.
// Each is a graph of two job kinds: train every dataset × model × seed, then measure the run's
// checkpoints (the best one, or all of them for the learning dynamics). Several datasets give one
// set of tables (and report panels) per dataset, each with the models that fit its image size.
import type { AttackRef } from "../attacks/registry.js";
import { type DatasetName, type DatasetRef, type ImageDatasetName, imageShape } from "../data/index.js";
import type { JobSpec, ModelEntry, StudySpec } from "../store/study-folder.js";
import type { Table, TableColumn, TableRow } from "../store/tables.js";
import type { Precision } from "../torch/dtype.js";
import { OptionError } from "../util/schema.js";
import type { MeasureInputs, StudyAttack, TrainInputs } from "./kinds/index.js";
import { PAPER_A_MODELS, type PaperModel, type PaperValue } from "./paper-a-models.js";
import { type TheorySweep, perturbationLearningSpec, perturbationTheorySpec } from "./paper-b.js";
import { atRegularizationSpec } from "./paper-c.js";
import { type PaperAStudy, type Scale, type StudyName, checkModelKeys, studyDataset } from "./spec.js";

export interface CatalogOptions {
  scale: Scale;
  /** Default: fourier-classes at smoke and demo scale, cifar10 at paper scale. */
  datasets?: DatasetName[];
  seeds?: number[];
  /** Only these model keys (default all of the scale's). */
  models?: string[];
  /** Overrides of the scale's sizes (sub-sampling, shorter training), recorded in the spec. */
  epochs?: number;
  trainExamples?: number;
  testExamples?: number;
  attackSteps?: number;
  attackExamples?: number;
  /** PGD's absolute step sizes (default the code's 0.01): the first is the study's attack, each further one adds its own tables. */
  attackStepsizes?: number[];
  /** perturbation-theory: the axis swept around the defaults, and the full-batch iterations. */
  sweep?: TheorySweep;
  iterations?: number;
  /** perturbation-learning: the noise-set sizes of the noise-size sweep. */
  noiseSizes?: number[];
}

interface ScaleSettings {
  dataset: DatasetName;
  /** fourier-classes parameters (smoke uses 16×16 images). */
  synthetic: { size: number; train: number; test: number; amplitude?: number };
  /** The first N training and test examples of a real set (all at paper scale). */
  real?: { train: number; test: number };
  epochs: number;
  batchSize: number;
  attack: { steps: number; examples: number; batchSize: number };
  /** Breakpoints: test images attacked at the final checkpoint, points per segment. */
  breakpoints: { examples: number; points: number };
}

/** A dataset of a study: its key in rows and folders, the set, its image side. */
interface DatasetEntry {
  key: string;
  ref: DatasetRef;
  side: number;
}

/** A model of the catalogue: the spec's entry, the paper's CIFAR-10 numbers, its own training length. */
interface CatalogModel extends ModelEntry {
  paper?: PaperModel["paper"];
  train?: { epochs: number; augment: boolean };
}

/** The models and tables of one dataset. */
interface Part {
  models: CatalogModel[];
  tables: Table[];
}

/** Paper A's studies in compact form, expanded into their job graph by paperAJobs. */
interface Built {
  study: PaperAStudy;
  scale: Scale;
  description: string;
  datasets: (DatasetEntry & Part)[];
  seeds: number[];
  train: TrainInputs["train"];
  /** Null: the study only trains (hidden-shortcut). */
  attack: StudyAttack | null;
  extraAttacks: MeasureInputs["extraAttacks"];
  /** Which checkpoints are measured: the best one, or every one (learning dynamics). */
  checkpoints: "best" | "all";
  transfer: boolean;
  breakpoints: MeasureInputs["breakpoints"];
  layerSpectra: boolean;
}

const SCALE: Record<Scale, ScaleSettings> = {
  // The reduced scales double the class signal's amplitude (0.1 instead of 0.05): linear models then
  // learn it in 3 epochs at the paper's learning rates (about 98 % test accuracy, measured) rather
  // than staying near chance.
  smoke: {
    dataset: "fourier-classes", synthetic: { size: 16, train: 256, test: 64, amplitude: 0.1 }, real: { train: 256, test: 64 },
    epochs: 1, batchSize: 64, attack: { steps: 5, examples: 24, batchSize: 24 }, breakpoints: { examples: 8, points: 8 },
  },
  demo: {
    dataset: "fourier-classes", synthetic: { size: 32, train: 2000, test: 500, amplitude: 0.1 }, real: { train: 2000, test: 500 },
    epochs: 3, batchSize: 128, attack: { steps: 20, examples: 300, batchSize: 100 }, breakpoints: { examples: 200, points: 32 },
  },
  paper: {
    dataset: "cifar10", synthetic: { size: 32, train: 10000, test: 2000 },
    epochs: 40, batchSize: 128, attack: { steps: 1000, examples: 2000, batchSize: 250 }, breakpoints: { examples: 1000, points: 100 },
  },
};

/** The dataset the paper's numbers are for: other sets get no paper columns. */
const PAPER_DATASET = "cifar10";
/** Paper A's code's PGD step (Foolbox's absolute step); its Table 6 says 0.1. */
const PGD_STEP = 0.01;

/** Paper A's attack (its code's Foolbox-native PGD): L∞, ε = 8/255, absolute step 0.01, random start, last iterate. */
function pgd(s: ScaleSettings, split: "train" | "test", examples: number, key = "pgd-linf", absStepsize = PGD_STEP): StudyAttack {
  const attack: AttackRef = { attack: "pgd", norm: "linf", eps: 8 / 255, options: { steps: s.attack.steps, absStepsize, randomStart: true } };
  return { key, attack, examples, split, batchSize: Math.min(s.attack.batchSize, examples) };
}

/** What a table's numbers come from, in words (every table says it). */
function describeAttack(a: StudyAttack): string {
  const o = a.attack.options as { steps: number; absStepsize: number };
  return `L∞ PGD (ε = 8/255, ${o.steps} steps of ${o.absStepsize}, random start) on the first ${a.examples} ${a.split === "test" ? "test" : "training"} images`;
}

function datasetEntry(name: DatasetName, s: ScaleSettings): DatasetEntry {
  const ref = studyDataset(name, s.synthetic);
  return { key: name, ref, side: imageShape(ref)[1] };
}

const model = (key: string, label: string, name: string, options: Record<string, unknown>, extra: Partial<CatalogModel> = {}): CatalogModel =>
  ({ key, label, name, options, linear: options.activation === "linear", ...extra });
const fromPaper = (m: PaperModel): CatalogModel => model(m.key, m.label, m.name, m.options, { paper: m.paper });

const SPECTRUM_COLUMNS: TableColumn[] = [
  { quantity: "delta_hat_l2", label: "‖δ̂‖₂" },
  { quantity: "delta_hat_l1", label: "‖δ̂‖₁" },
];
// β̂ the paper's way (luminance min–max scaled to [0, 1], then the DFT), and two scale-free variants of ours.
const BETA_COLUMNS: TableColumn[] = [
  { quantity: "beta_hat_minmax_l2", label: "‖β̂‖₂" },
  { quantity: "beta_hat_minmax_l1", label: "‖β̂‖₁" },
  { quantity: "beta_hat_minmax_sparsity", label: "‖β̂‖₁/‖β̂‖₂" },
  { quantity: "beta_hat_l1", label: "‖β̂‖₁ of β as is (ours)" },
  { quantity: "beta_hat_unit_l1", label: "‖β̂‖₁, ‖β‖₂ = 1 (ours)" },
];
const ACCURACY_COLUMN: TableColumn = { quantity: "test_accuracy", label: "test acc. %", attack: "" };
const HF_COLUMNS: TableColumn[] = [
  { quantity: "delta_centroid", label: "centroid (cycles/image)" },
  { quantity: "delta_hf8", label: "energy r > 8" },
  { quantity: "delta_hat_sparsity", label: "‖δ̂‖₁/‖δ̂‖₂" },
  { quantity: "success_rate", label: "success %" },
  // An under-trained model confounds a frequency comparison: its accuracy goes beside every such number.
  ACCURACY_COLUMN,
];

/** The paper's value for a column: its number for the quantity, Table 1's ratio of means for the ‖β̂‖ ratio. */
function paperValue(p: PaperModel["paper"], quantity: string): PaperValue | undefined {
  if (quantity === "beta_hat_minmax_sparsity") {
    const [l1, l2] = [p.beta_hat_minmax_l1, p.beta_hat_minmax_l2];
    return Array.isArray(l1) && Array.isArray(l2) ? Number((l1[0] / l2[0]).toFixed(2)) : undefined;
  }
  return p[quantity as keyof PaperModel["paper"]];
}

function rowsOf(models: CatalogModel[], columns: TableColumn[]): TableRow[] {
  return models.map((m) => {
    const paper = Object.fromEntries(columns.flatMap((c) => {
      const v = m.paper && paperValue(m.paper, c.quantity);
      return v === undefined ? [] : [[c.label, v]];
    }));
    return { model: m.key, ...(Object.keys(paper).length ? { paper } : {}) };
  });
}

const SMOKE_IFR = new Set(["fc-linear", "fwconv-linear", "bwconv-relu"]);
// Left out of the demo for time (VGG19, ResNet18: 30–50 img/s here; deep FC, LC: the widest layers).
const NOT_IN_DEMO = new Set(["vgg19", "resnet18", "fc-deep-linear", "lc-linear", "lc-relu", "bwconv-c32-linear"]);

function ifr(scale: Scale): Part {
  const keep = (key: string) => scale === "paper" || (scale === "demo" ? !NOT_IN_DEMO.has(key) : SMOKE_IFR.has(key));
  const models = PAPER_A_MODELS.filter((m) => keep(m.key));
  const linear = models.filter((m) => m.table === "linear").map(fromPaper);
  const relu = models.filter((m) => m.table === "relu").map(fromPaper);
  const table1 = [...SPECTRUM_COLUMNS, ...BETA_COLUMNS];
  const tables: Table[] = [
    {
      id: "table1", title: "Table 1: frequency-domain norms of δ̂ and β̂, linear models", attack: "pgd-linf", columns: table1, rows: rowsOf(linear, table1),
      note: "‖β̂‖ as the paper: the luminance of β = ∂z/∂x of the predicted class, min–max scaled to [0, 1], then the DFT; '(ours)' columns are our scale-free variants.",
    },
    { id: "table2", title: "Table 2: frequency-domain norms of δ̂, nonlinear models", attack: "pgd-linf", columns: SPECTRUM_COLUMNS, rows: rowsOf(relu, SPECTRUM_COLUMNS) },
    { id: "table4", title: "Table 4: test accuracy (best epoch)", attack: "", columns: [ACCURACY_COLUMN], rows: rowsOf([...linear, ...relu], [ACCURACY_COLUMN]) },
    { id: "hf", title: "High-frequency statistics of δ̂ (our choice of statistics, docs/methods.md)", attack: "pgd-linf", columns: HF_COLUMNS, rows: rowsOf([...linear, ...relu], []) },
  ].filter((t) => t.rows.length > 0);
  return { models: [...linear, ...relu], tables };
}

function initScale(scale: Scale): Part {
  const alphas = scale === "smoke" ? [0.1, 10] : [0.1, 1, 10];
  const families = scale === "smoke" ? [["bwconv", "Bounded Width Convolution C = 32"]] : [["lc", "Locally Connected"], ["bwconv", "Bounded Width Convolution C = 32"]];
  const models: CatalogModel[] = [];
  for (const [name, label] of families) {
    for (const activation of ["linear", "relu"]) {
      for (const alpha of alphas) {
        models.push(model(`${name}-${activation}-a${alpha}`, `${label} (${activation}), α = ${alpha}`, name!, { ...(name === "bwconv" ? { channels: 32 } : {}), activation, initScale: alpha }, { group: `${name}-${activation}` }));
      }
    }
  }
  const columns = [...SPECTRUM_COLUMNS, ...HF_COLUMNS];
  return { models, tables: [{ id: "alpha", title: "δ̂ statistics against the init scale α", attack: "pgd-linf", columns, rows: rowsOf(models, []) }] };
}

/**
 * Bounded-width kernels k and the full-width one (k = the image side), 32 channels at paper scale,
 * circular padding so that every k reads out the same side × side map; one and three layers; and
 * locally connected ReLU nets with the bounded kernels (the code's channel rule keeps their hidden size).
 */
function kernelSize(scale: Scale, side: number): Part {
  const bounded = (scale === "paper" ? [3, 5, 7, 9, 11, 15, 21] : scale === "demo" ? [3, 7, 15] : [3]).filter((k) => k < side);
  const channels = scale === "paper" ? 32 : 8;
  const models: CatalogModel[] = [];
  for (const depth of scale === "paper" ? [1, 3] : [1]) {
    for (const activation of ["linear", "relu"]) {
      const family = `bwconv${depth === 3 ? "-deep" : ""}-${activation}`;
      for (const kernel of [...bounded, side]) {
        const label = `Conv${depth === 3 ? " (3 layers)" : ""} k = ${kernel}${kernel === side ? " (full width)" : ""} (${activation})`;
        models.push(model(`${family}-k${kernel}`, label, "bwconv", { channels, kernel, depth, padding: "circular", activation }, { group: family }));
      }
    }
  }
  if (scale === "paper") {
    for (const kernel of bounded) models.push(model(`lc-relu-k${kernel}`, `Locally Connected k = ${kernel} (ReLU)`, "lc", { kernel, activation: "relu" }, { group: "lc-relu" }));
  }
  const columns = [...SPECTRUM_COLUMNS, ...HF_COLUMNS];
  return { models, tables: [{ id: "kernel", title: "δ̂ statistics against the kernel size", attack: "pgd-linf", columns, rows: rowsOf(models, []) }] };
}

function architectures(scale: Scale): Part {
  // Our ViT/Mixer configuration (docs/studies.md), trained as such models need (augmentation, 100
  // epochs) at paper scale; small transformers elsewhere so they train in seconds on 2 cores.
  const small = scale !== "paper";
  const long = small ? {} : { train: { epochs: 100, augment: true } };
  const models = [
    model("vit", "ViT", "vit", small ? { dim: 64, depth: 2, heads: 4, mlpDim: 128 } : {}, long),
    model("mlp-mixer", "MLP-Mixer", "mlp-mixer", small ? { dim: 64, depth: 2, tokenMlpDim: 64, channelMlpDim: 128 } : {}, long),
    model("bwconv-relu", "Bounded Width Convolution (ReLU)", "bwconv", { channels: 32, activation: "relu" }),
    scale === "paper" ? model("resnet18", "ResNet18", "resnet18", {}) : model("shallow-resnet", "Shallow ResNet", "shallow-resnet", {}),
  ];
  const keep = scale === "smoke" ? models.filter((m) => m.key === "vit" || m.key === "bwconv-relu") : models;
  return { models: keep, tables: [{ id: "architectures", title: "δ̂ statistics by architecture", attack: "pgd-linf", columns: HF_COLUMNS, rows: rowsOf(keep, []) }] };
}

/** Paper A's hidden-shortcut experiment: the code's four models, accuracy with and without the v3 Fourier-domain shortcut. */
function hiddenShortcut(base: DatasetEntry, shortcut: string, scale: Scale): Part {
  const all: [CatalogModel, [number, number]][] = [
    [model("linear", "Linear (single layer)", "fc", { depth: 0, activation: "linear" }), [40.8, 46.11]],
    [model("fc-relu", "Nonlinear FC (1000)", "fc", { width: 1000, activation: "relu" }), [48.5, 51.86]],
    [model("bwconv-linear", "Linear Conv (3→32, k3)", "bwconv", { channels: 32, activation: "linear" }), [41.81, 74.12]],
    [model("bwconv-relu", "Nonlinear Conv (3→32, k3)", "bwconv", { channels: 32, activation: "relu" }), [56.66, 66.07]],
  ];
  const models = scale === "smoke" ? all.filter(([m]) => m.key === "linear" || m.key === "bwconv-linear") : all;
  return {
    models: models.map(([m]) => ({ ...m, optim: { lr: 0.002 } })),
    tables: [{
      id: "shortcut", title: "Test accuracy (%) on clean vs hidden-shortcut data", attack: "", reference: "authors' code",
      note: "Reference numbers: means of 5 runs from comments in the authors' code (not in the paper), on CIFAR-10.",
      columns: [{ quantity: "test_accuracy", label: "clean", dataset: base.key }, { quantity: "test_accuracy", label: "hidden shortcut", dataset: shortcut }],
      rows: models.map(([m, [clean, withShortcut]]) => ({ model: m.key, paper: { clean, "hidden shortcut": withShortcut } })),
    }],
  };
}

/** Scaled equivalents of the paper's breakpoint epochs 0, 5, 10, 20, 25, 40 (of 40). */
export function breakpointEpochs(epochs: number): number[] {
  return [...new Set([0, 5, 10, 20, 25, 40].map((e) => Math.round((e * epochs) / 40)))];
}

/** The job graph of a paper-A study: train each dataset × model × seed, then measure its checkpoints. */
function paperAJobs(b: Built): JobSpec[] {
  const jobs: JobSpec[] = [];
  for (const d of b.datasets) {
    for (const m of d.models) {
      for (const seed of b.seeds) {
        const where = `${d.key}/${m.key}/seed-${seed}`;
        const tags = { dataset: d.key, model: m.key, seed };
        const run = `runs/${where}`;
        // Studies keep the checkpoint files they measure: every one for the dynamics, else the best (and the last, for resuming).
        const keep = b.checkpoints === "all" ? {} : { keep: "best" as const };
        const train: TrainInputs = { model: { name: m.name, options: m.options }, dataset: d.ref, train: { ...b.train, ...m.train, ...keep }, seed, ...(m.optim ? { optim: m.optim } : {}) };
        jobs.push({ id: run, kind: "train", tags, inputs: { ...train } });
        if (b.attack === null) continue;
        const measure: MeasureInputs = {
          checkpoints: b.checkpoints, seed, attack: b.attack, extraAttacks: b.extraAttacks, transfer: b.transfer, breakpoints: b.breakpoints, layerSpectra: b.layerSpectra, linear: m.linear,
        };
        jobs.push({ id: `tensors/${where}`, kind: "measure", tags, inputs: { ...measure }, deps: { run } });
      }
    }
  }
  return jobs;
}

/** The study with every train job under autocast (`--precision`); the attacks on a run use the run's precision. */
export function withPrecision(spec: StudySpec, precision: Precision | undefined): StudySpec {
  if (!precision || precision === "fp32") return spec;
  if (!spec.jobs.some((j) => j.kind === "train")) throw new OptionError(`--precision ${precision}: study ${spec.study} has no train jobs to run in it (its own trainings run in float32)`);
  const train = (i: TrainInputs): TrainInputs => ({ ...i, train: { ...i.train, precision } });
  return { ...spec, jobs: spec.jobs.map((j) => (j.kind === "train" ? { ...j, inputs: { ...train(j.inputs as unknown as TrainInputs) } } : j)) };
}

export function studySpec(study: StudyName, o: CatalogOptions): StudySpec {
  if (study === "perturbation-theory") return perturbationTheorySpec(o);
  if (study === "perturbation-learning") return perturbationLearningSpec(o);
  if (study === "at-regularization") return atRegularizationSpec(o);
  const b = scaledSettings(study, o);
  if (o.models) {
    checkModelKeys(study, o.scale, o.models, [...new Set(b.datasets.flatMap((d) => d.models.map((m) => m.key)))]);
    for (const d of b.datasets) {
      d.models = d.models.filter((m) => o.models!.includes(m.key));
      d.tables = d.tables.map((t) => ({ ...t, rows: t.rows.filter((r) => o.models!.includes(r.model)) })).filter((t) => t.rows.length > 0);
    }
  }
  const models = new Map<string, ModelEntry>();
  for (const d of b.datasets) {
    for (const { paper: _, train: __, ...entry } of d.models) if (!models.has(entry.key)) models.set(entry.key, entry);
  }
  return { study: b.study, scale: b.scale, description: b.description, models: [...models.values()], tables: b.datasets.flatMap((d) => d.tables), jobs: paperAJobs(b) };
}

const DESCRIPTIONS: Record<PaperAStudy, string> = {
  ifr: "Paper A, v1 Tables 1, 2, 4: implicit Fourier regularisation — spectra of PGD perturbations and of linear models' predictors β",
  "init-scale": "Paper A, v1 Fig. 11: init scale α ∈ {0.1, 1, 10} — larger α, higher-frequency and sparser δ̂",
  "kernel-size": "Paper A, later versions: kernel-size sweep — smaller kernels, higher-frequency δ̂; k = image side behaves like full-width conv",
  architectures: "Paper A, later versions: non-convolutional architectures — ViT and MLP-Mixer give lower-frequency δ̂ than CNNs, with no lower success rate",
  "hidden-shortcut": "Paper A, Frontiers version and code: hidden Fourier-domain shortcut (v3: ε = 0.25, p = 0.2) — conv models gain far more from it than FC models",
  dynamics: "Paper A, v1 Figs. 1–3, 6, 7: learning dynamics — success vs accuracy, minimal ‖δ‖ and spectra over checkpoints, transfer from the final checkpoint, ReLU flips and roughness along adversarial vs random directions",
};

/**
 * One dataset's tables as the study prints them: the paper's columns only on the paper's data, a
 * note on what each number comes from, and the dataset in id and title when the study has several.
 */
function finishTables(tables: Table[], d: DatasetEntry, several: boolean, sources: string): Table[] {
  return tables.map((t) => {
    const paperData = d.key === PAPER_DATASET;
    const notes = [t.note, t.attack ? sources : "", paperData ? "" : `No ${t.reference ?? "paper"} columns: its numbers are for ${PAPER_DATASET}, this table is on ${d.key}.`].filter(Boolean);
    return {
      ...t,
      id: several ? `${t.id}-${d.key}` : t.id,
      title: several ? `${t.title} — ${d.key}` : t.title,
      columns: t.columns.map((c) => (several && c.dataset === undefined ? { ...c, dataset: d.key } : c)),
      rows: paperData ? t.rows : t.rows.map(({ model }) => ({ model })),
      ...(notes.length ? { note: notes.join(" ") } : {}),
    };
  });
}

/** The tables again for each further PGD step size, on that attack's rows (δ̂ columns only: β does not depend on the attack). */
function stepTables(tables: Table[], extra: { key: string; step: number }[]): Table[] {
  return tables.flatMap((t) => [t, ...(t.attack !== "pgd-linf" ? [] : extra.map(({ key, step }) => ({
    ...t, id: `${t.id}-${key}`, title: `${t.title} (PGD step ${step})`, attack: key,
    columns: t.columns.filter((c) => !c.quantity.startsWith("beta_")),
    rows: t.rows.map(({ model }) => ({ model })),
  })))]);
}

function scaledSettings(study: PaperAStudy, o: CatalogOptions): Built {
  const s = SCALE[o.scale];
  const names = o.datasets?.length ? o.datasets : [s.dataset];
  const real = (name: DatasetName) => name !== "fourier-classes" && o.scale !== "paper";
  const steps = o.attackStepsizes?.length ? o.attackStepsizes : [PGD_STEP];
  const dynamics = study === "dynamics";
  const epochs = o.epochs ?? (dynamics ? (o.scale === "paper" ? 40 : o.scale === "demo" ? 3 : 2) : s.epochs);
  const train: TrainInputs["train"] = {
    epochs, batchSize: s.batchSize,
    // Reduced scales take the first examples of a real set (every real set of a study alike).
    ...(names.some(real) && s.real ? { trainExamples: s.real.train, testExamples: s.real.test } : {}),
    checkpointEveryIters: dynamics ? (o.scale === "paper" ? 30 : o.scale === "demo" ? 5 : 2) : 0, earlyEpochs: 1,
    ...(o.trainExamples !== undefined ? { trainExamples: o.trainExamples } : {}),
    ...(o.testExamples !== undefined ? { testExamples: o.testExamples } : {}),
  };
  const attackSteps = o.attackSteps ?? s.attack.steps;
  const scaled = { ...s, attack: { ...s.attack, steps: attackSteps } };
  const examples = o.attackExamples ?? (dynamics ? Math.min(100, s.attack.examples) : s.attack.examples);
  // Dynamics: 100 fixed training images at every checkpoint (paper A's code); the others: the first test images.
  const attack = study === "hidden-shortcut" ? null : pgd(scaled, dynamics ? "train" : "test", examples, "pgd-linf", steps[0]);
  const extraSteps = steps.slice(1).map((step) => ({ key: `pgd-linf-step${step}`, step }));
  const extraAttacks: MeasureInputs["extraAttacks"] = attack === null ? [] : [
    ...extraSteps.map(({ key, step }) => ({ key, attack: pgd(scaled, attack.split, examples, key, step).attack })),
    // Minimal ‖δ‖ over training: DDN for L2, because FMN L2 (Foolbox's algorithm) stalls inside the
    // [0, 1] box where many pixels sit at a bound (Fashion-MNIST: 0 of 20 trained-model examples in
    // 100 steps, where DDN found all); FMN for L∞, which reaches the boundary there.
    ...(dynamics ? (["ddn-l2", "fmn-linf"] as const).map((key) => {
      const [attack, norm] = key.split("-") as ["ddn" | "fmn", "l2" | "linf"];
      return { key, attack: { attack, norm, eps: null, options: { steps: o.scale === "paper" ? 1000 : o.scale === "demo" ? 50 : 5 } } satisfies AttackRef };
    }) : []),
  ];
  const breakpoints: MeasureInputs["breakpoints"] = dynamics && attack
    ? { epochs: breakpointEpochs(epochs), points: s.breakpoints.points, attack: pgd(scaled, "test", s.breakpoints.examples, "pgd-linf-test", steps[0]) }
    : null;
  const sources = attack ? [
    `δ: ${describeAttack(attack)}; δ statistics over the successful attacks.`,
    breakpoints ? `Breakpoints: along the δ of ${describeAttack(breakpoints.attack)}, attacked at the final checkpoint.` : "",
  ].filter(Boolean).join(" ") : "";
  const several = names.length > 1;
  const datasets = names.map((name) => {
    const d = datasetEntry(name, s);
    let part: Part;
    let extra: DatasetEntry[] = [];
    switch (study) {
      case "ifr": part = ifr(o.scale); break;
      case "init-scale": part = initScale(o.scale); break;
      case "kernel-size": part = kernelSize(o.scale, d.side); break;
      case "architectures": part = architectures(o.scale); break;
      case "dynamics": {
        // Paper A, v1 Figs. 1–3, 6, 7: ResNet18 at paper scale; a ReLU conv net that trains in seconds elsewhere.
        const m = o.scale === "paper" ? fromPaper(PAPER_A_MODELS.find((x) => x.key === "resnet18")!) : model("bwconv-relu", "Bounded Width Convolution (ReLU)", "bwconv", { channels: 32, activation: "relu" });
        part = {
          models: [m],
          tables: [{ id: "dynamics", title: "Best checkpoint", attack: "pgd-linf", columns: [{ quantity: "success_rate", label: "success %" }, ACCURACY_COLUMN, { quantity: "delta_centroid", label: "centroid" }], rows: [{ model: m.key }] }],
        };
        break;
      }
      case "hidden-shortcut": {
        const shortcut: DatasetEntry = {
          key: several ? `hidden-shortcut-${name}` : "hidden-shortcut", side: d.side,
          ref: { name: "hidden-shortcut", options: { ...d.ref.options, hiddenShortcut: { base: name as ImageDatasetName, preset: "v3" } } },
        };
        extra = [shortcut];
        part = hiddenShortcut(d, shortcut.key, o.scale);
        break;
      }
    }
    part.tables = finishTables(stepTables(part.tables, extraSteps), d, several, sources);
    // The shortcut set trains the same models; its numbers appear in the base set's table.
    // --epochs is for every model, also those the study trains longer.
    if (o.epochs !== undefined) part.models = part.models.map(({ train: t, ...m }) => (t ? { ...m, train: { ...t, epochs: o.epochs! } } : m));
    return [{ ...d, ...part }, ...extra.map((e) => ({ ...e, models: part.models, tables: [] }))];
  }).flat();
  return {
    study, scale: o.scale, description: DESCRIPTIONS[study], datasets, seeds: o.seeds ?? [0], train, attack, extraAttacks,
    checkpoints: dynamics ? "all" : "best", transfer: dynamics, breakpoints, layerSpectra: study === "init-scale",
  };
}
