// Paper A's experiments (v1 Tables 1, 2, 4, Figs. 2–11, and the later versions' sweeps; docs/studies.md) as study specs, at three scales. The paper scale
// uses the paper's settings (its code's where the text is silent); demo and smoke shrink data, epochs, attack
// steps and model lists so the same graph runs in minutes or seconds on built-in data.
// Each is a graph of two job kinds: train every dataset × model × seed, then measure the run's
// checkpoints (the best one, or all of them for the learning dynamics).
import type { AttackRef } from "../attacks/registry.js";
import type { DatasetName, DatasetRef, ImageDatasetName } from "../data/index.js";
import type { JobSpec, ModelEntry, StudySpec } from "../store/study-folder.js";
import type { Table } from "../store/tables.js";
import type { MeasureInputs, StudyAttack, TrainInputs } from "./kinds/index.js";
import type { Scale, StudyName } from "./spec.js";

export interface CatalogOptions {
  scale: Scale;
  /** Default: fourier-classes at smoke/demo scale, cifar10 at paper scale. */
  dataset?: DatasetName;
  seeds?: number[];
  /** Only these model keys (default all of the scale's). */
  models?: string[];
  /** Overrides of the scale's sizes (sub-sampling, shorter training), recorded in the spec. */
  epochs?: number;
  trainExamples?: number;
  testExamples?: number;
  attackSteps?: number;
  attackExamples?: number;
}

interface ScaleSettings {
  dataset: DatasetName;
  /** fourier-classes parameters (smoke uses 16×16 images). */
  synthetic: { size: number; train: number; test: number; amplitude?: number };
  trainExamples?: number;
  testExamples?: number;
  epochs: number;
  batchSize: number;
  attack: { steps: number; examples: number; batchSize: number };
}

/** A dataset of a study: its key in rows and folders, and the set. */
interface DatasetEntry {
  key: string;
  ref: DatasetRef;
}

/** Paper A's studies in compact form, expanded into their job graph by paperAJobs. */
interface PaperASettings {
  datasets: DatasetEntry[];
  models: ModelEntry[];
  seeds: number[];
  train: TrainInputs["train"];
  /** Null: the study only trains (hidden-shortcut). */
  attack: StudyAttack | null;
  /** Which checkpoints are measured: the best one, or every one (learning dynamics). */
  checkpoints: "best" | "all";
  /** Minimal-norm attacks (FMN L2 and L∞) at every measured checkpoint, for ‖δ‖ over training. */
  minimalNorm: { steps: number } | null;
  transfer: boolean;
  breakpoints: MeasureInputs["breakpoints"];
  layerSpectra: boolean;
}

type Built = PaperASettings & Pick<StudySpec, "study" | "scale" | "description" | "tables">;

const SCALE: Record<Scale, ScaleSettings> = {
  // The reduced scales double the class signal's amplitude (0.1 instead of 0.05): linear models then
  // learn it in 3 epochs at the paper's learning rates (about 98 % test accuracy, measured) rather
  // than staying near chance.
  smoke: { dataset: "fourier-classes", synthetic: { size: 16, train: 256, test: 64, amplitude: 0.1 }, epochs: 1, batchSize: 64, attack: { steps: 5, examples: 24, batchSize: 24 } },
  demo: { dataset: "fourier-classes", synthetic: { size: 32, train: 2000, test: 500, amplitude: 0.1 }, epochs: 3, batchSize: 128, attack: { steps: 20, examples: 100, batchSize: 100 } },
  paper: { dataset: "cifar10", synthetic: { size: 32, train: 10000, test: 2000 }, epochs: 40, batchSize: 128, attack: { steps: 1000, examples: 2000, batchSize: 250 } },
};

/** Paper A's attack (its code's Foolbox-native PGD): L∞, ε = 8/255, absolute step 0.01, random start, last iterate. */
function pgd(s: ScaleSettings, split: "train" | "test" = "test", examples = s.attack.examples): StudyAttack {
  const attack: AttackRef = { attack: "pgd", norm: "linf", eps: 8 / 255, options: { steps: s.attack.steps, absStepsize: 0.01, randomStart: true } };
  return { key: "pgd-linf", attack, examples, split, batchSize: Math.min(s.attack.batchSize, examples) };
}

function datasetEntry(name: DatasetName, s: ScaleSettings): DatasetEntry {
  return { key: name, ref: name === "fourier-classes" ? { name, options: { fourierClasses: s.synthetic } } : { name } };
}

const model = (key: string, label: string, name: string, options: Record<string, unknown>, extra: Partial<ModelEntry> = {}): ModelEntry =>
  ({ key, label, name, options, linear: options.activation === "linear", ...extra });

// v1 Table 1 and Table 2, Table 4 accuracies, as [mean, std] or a value in %.
const LINEAR: [string, string, string, Record<string, unknown>, Record<string, number | [number, number]> | undefined][] = [
  ["fc-linear", "Fully Connected", "fc", {}, { "‖δ̂‖₂": [20.77, 1.23], "‖δ̂‖₁": [505.95, 32.22], "‖β̂‖₂": [546.89, 43.37], "‖β̂‖₁": [2232.46, 166.27], "test acc. %": 41 }],
  ["fwconv-linear", "Full Width Convolution", "fwconv", {}, { "‖δ̂‖₂": [17.52, 1.56], "‖δ̂‖₁": [376.31, 32.66], "‖β̂‖₂": [544.83, 42.4], "‖β̂‖₁": [1598.37, 181.44], "test acc. %": 41 }],
  ["bwconv-linear", "Bounded Width Convolution", "bwconv", { channels: 3 }, { "‖δ̂‖₂": [20.65, 1.09], "‖δ̂‖₁": [556.32, 32.64], "‖β̂‖₂": [500.67, 47.46], "‖β̂‖₁": [2623.04, 331.42], "test acc. %": 41 }],
  ["fc-deep-linear", "Deep Fully Connected", "fc", { depth: 3 }, { "‖δ̂‖₂": [20.83, 1.25], "‖δ̂‖₁": [503.92, 32.62], "‖β̂‖₂": [554.16, 38.95], "‖β̂‖₁": [2168.06, 134.07], "test acc. %": 41 }],
  ["fwconv-deep-linear", "Deep Full Width Convolution", "fwconv", { depth: 3 }, { "‖δ̂‖₂": [17.13, 1.68], "‖δ̂‖₁": [265.4, 41.72], "‖β̂‖₂": [522.99, 39.72], "‖β̂‖₁": [1417.68, 213.91], "test acc. %": 36 }],
  ["bwconv-deep-linear", "Deep Bounded Width Convolution", "bwconv", { channels: 3, depth: 3 }, { "‖δ̂‖₂": [20.57, 0.94], "‖δ̂‖₁": [550.3, 29.71], "‖β̂‖₂": [498.52, 47.15], "‖β̂‖₁": [2392.09, 278.55], "test acc. %": 41 }],
  ["bwconv-c32-linear", "Bounded Width Convolution, C = 32", "bwconv", { channels: 32 }, undefined],
  ["lc-linear", "Locally Connected", "lc", {}, { "test acc. %": 35 }],
];
const NONLINEAR: [string, string, string, Record<string, unknown>, Record<string, number | [number, number]> | undefined][] = [
  ["fc-relu", "Fully Connected", "fc", {}, { "‖δ̂‖₂": [22.06, 1.35], "‖δ̂‖₁": [534.34, 35.93], "test acc. %": 52 }],
  ["lc-relu", "Locally Connected", "lc", {}, { "‖δ̂‖₂": [22.32, 1.13], "‖δ̂‖₁": [587.61, 29.89], "test acc. %": 54 }],
  ["fwconv-relu", "Full Width Convolution", "fwconv", {}, { "‖δ̂‖₂": [20.57, 1.11], "‖δ̂‖₁": [405.49, 34.16] }],
  ["bwconv-relu", "Bounded Width Convolution", "bwconv", { channels: 32 }, { "‖δ̂‖₂": [24.63, 1.36], "‖δ̂‖₁": [665.22, 38.55], "test acc. %": 63 }],
  ["shallow-resnet", "Shallow ResNet", "shallow-resnet", {}, { "‖δ̂‖₂": [26.36, 0.74], "‖δ̂‖₁": [709.06, 20.76], "test acc. %": 64 }],
  ["vgg19", "VGG19", "vgg19", {}, { "‖δ̂‖₂": [23.32, 0.99], "‖δ̂‖₁": [650.73, 27.87], "test acc. %": 91 }],
  ["resnet18", "ResNet18", "resnet18", {}, { "‖δ̂‖₂": [22.42, 0.91], "‖δ̂‖₁": [626.6, 25.4], "test acc. %": 92 }],
];

const SPECTRUM_COLUMNS = [
  { quantity: "delta_hat_l2", label: "‖δ̂‖₂" },
  { quantity: "delta_hat_l1", label: "‖δ̂‖₁" },
];
const ACCURACY_COLUMN = { quantity: "test_accuracy", label: "test acc. %", attack: "" };
const HF_COLUMNS = [
  { quantity: "delta_centroid", label: "centroid (cycles/image)" },
  { quantity: "delta_hf8", label: "energy r > 8" },
  { quantity: "delta_hat_sparsity", label: "‖δ̂‖₁/‖δ̂‖₂" },
  { quantity: "success_rate", label: "success %" },
];

const SMOKE_IFR = new Set(["fc-linear", "fwconv-linear", "bwconv-relu"]);
// Left out of the demo for time (VGG19, ResNet18: 30–50 img/s here; deep FC, LC: the widest layers).
const NOT_IN_DEMO = new Set(["vgg19", "resnet18", "fc-deep-linear", "lc-linear", "lc-relu", "bwconv-c32-linear"]);

type Part = Pick<Built, "description" | "models" | "tables">;

function ifr(scale: Scale): Part {
  const keep = (key: string) => scale === "paper" || (scale === "demo" ? !NOT_IN_DEMO.has(key) : SMOKE_IFR.has(key));
  const linear = LINEAR.filter(([k]) => keep(k)).map(([key, label, name, o, paper]) => ({ entry: model(key, `${label} (linear)`, name, { ...o, activation: "linear" }), paper }));
  const relu = NONLINEAR.filter(([k]) => keep(k)).map(([key, label, name, o, paper]) => ({
    entry: model(key, `${label} (ReLU)`, name, name === "fc" || name === "lc" || name === "fwconv" || name === "bwconv" ? { ...o, activation: "relu" } : o),
    paper,
  }));
  const rows = (list: typeof linear) => list.map(({ entry, paper }) => ({ model: entry.key, ...(paper ? { paper } : {}) }));
  const tables: Table[] = [
    { id: "table1", title: "Table 1: frequency-domain norms of δ̂ and β̂, linear models", attack: "pgd-linf", columns: [...SPECTRUM_COLUMNS, { quantity: "beta_hat_l2", label: "‖β̂‖₂" }, { quantity: "beta_hat_l1", label: "‖β̂‖₁" }, { quantity: "beta_hat_unit_l1", label: "‖β̂‖₁, ‖β‖₂ = 1" }], rows: rows(linear) },
    { id: "table2", title: "Table 2: frequency-domain norms of δ̂, nonlinear models", attack: "pgd-linf", columns: SPECTRUM_COLUMNS, rows: rows(relu) },
    { id: "table4", title: "Table 4: test accuracy (best epoch)", attack: "", columns: [ACCURACY_COLUMN], rows: rows([...linear, ...relu]) },
    { id: "hf", title: "High-frequency statistics of δ̂ (our choice of statistics, docs/methods.md)", attack: "pgd-linf", columns: HF_COLUMNS, rows: rows([...linear, ...relu]) },
  ].filter((t) => t.rows.length > 0);
  return {
    description: "Paper A, v1 Tables 1, 2, 4: implicit Fourier regularisation — spectra of PGD perturbations and of linear models' predictors β",
    models: [...linear, ...relu].map((m) => m.entry),
    tables,
  };
}

function initScale(scale: Scale): Part {
  const alphas = scale === "smoke" ? [0.1, 10] : [0.1, 1, 10];
  const families = scale === "smoke" ? [["bwconv", "Bounded Width Convolution C = 32"]] : [["lc", "Locally Connected"], ["bwconv", "Bounded Width Convolution C = 32"]];
  const models: ModelEntry[] = [];
  for (const [name, label] of families) {
    for (const activation of ["linear", "relu"]) {
      for (const alpha of alphas) {
        models.push(model(`${name}-${activation}-a${alpha}`, `${label} (${activation}), α = ${alpha}`, name!, { ...(name === "bwconv" ? { channels: 32 } : {}), activation, initScale: alpha }, { group: `${name}-${activation}` }));
      }
    }
  }
  return {
    description: "Paper A, v1 Fig. 11: init scale α ∈ {0.1, 1, 10} — larger α, higher-frequency and sparser δ̂",
    models,
    tables: [{ id: "alpha", title: "δ̂ statistics against the init scale α", attack: "pgd-linf", columns: [...SPECTRUM_COLUMNS, ...HF_COLUMNS], rows: models.map((m) => ({ model: m.key })) }],
  };
}

function kernelSize(scale: Scale, side: number): Part {
  const kernels = scale === "paper" ? [3, 5, 7, 9, 11, 15, 21, side] : scale === "demo" ? [3, 7, 15, side] : [3, side];
  const channels = scale === "paper" ? 32 : 8;
  const models: ModelEntry[] = [];
  for (const activation of ["linear", "relu"]) {
    for (const kernel of kernels) {
      models.push(model(`bwconv-${activation}-k${kernel}`, `Conv k = ${kernel} (${activation})`, "bwconv", { channels, kernel, activation }, { group: `bwconv-${activation}` }));
    }
  }
  if (scale === "paper") {
    for (const kernel of [3, 7, 9, 15]) models.push(model(`lc-relu-k${kernel}`, `Locally Connected k = ${kernel} (ReLU)`, "lc", { kernel, activation: "relu" }, { group: "lc-relu" }));
  }
  return {
    description: "Paper A, later versions: kernel-size sweep — smaller kernels, higher-frequency δ̂; k = image side behaves like full-width conv",
    models,
    tables: [{ id: "kernel", title: "δ̂ statistics against the kernel size", attack: "pgd-linf", columns: [...SPECTRUM_COLUMNS, ...HF_COLUMNS], rows: models.map((m) => ({ model: m.key })) }],
  };
}

function architectures(scale: Scale): Part {
  // Our ViT/Mixer configuration (docs/studies.md) at paper scale; small transformers elsewhere so they train in seconds on 2 cores.
  const small = scale !== "paper";
  const models = [
    model("vit", "ViT", "vit", small ? { dim: 64, depth: 2, heads: 4, mlpDim: 128 } : {}),
    model("mlp-mixer", "MLP-Mixer", "mlp-mixer", small ? { dim: 64, depth: 2, tokenMlpDim: 64, channelMlpDim: 128 } : {}),
    model("bwconv-relu", "Bounded Width Convolution (ReLU)", "bwconv", { channels: 32, activation: "relu" }),
    scale === "paper" ? model("resnet18", "ResNet18", "resnet18", {}) : model("shallow-resnet", "Shallow ResNet", "shallow-resnet", {}),
  ];
  const keep = scale === "smoke" ? models.filter((m) => m.key === "vit" || m.key === "bwconv-relu") : models;
  return {
    description: "Paper A, later versions: non-convolutional architectures — ViT and MLP-Mixer give lower-frequency δ̂ than CNNs, with no lower success rate",
    models: keep,
    tables: [{ id: "architectures", title: "δ̂ statistics by architecture", attack: "pgd-linf", columns: [...HF_COLUMNS, ACCURACY_COLUMN], rows: keep.map((m) => ({ model: m.key })) }],
  };
}

/** Paper A's hidden-shortcut experiment: the code's four models, accuracy with and without the v3 Fourier-domain shortcut (code-comment means of 5 runs). */
function hiddenShortcutModels(base: string, scale: Scale): Part {
  const all: [ModelEntry, [number, number]][] = [
    [model("fc-linear", "Linear FC", "fc", { activation: "linear" }), [40.8, 46.11]],
    [model("fc-relu", "Nonlinear FC (1000)", "fc", { width: 1000, activation: "relu" }), [48.5, 51.86]],
    [model("bwconv-linear", "Linear Conv (3→32, k3)", "bwconv", { channels: 32, activation: "linear" }), [41.81, 74.12]],
    [model("bwconv-relu", "Nonlinear Conv (3→32, k3)", "bwconv", { channels: 32, activation: "relu" }), [56.66, 66.07]],
  ];
  const models = scale === "smoke" ? all.filter(([m]) => m.key === "fc-linear" || m.key === "bwconv-linear") : all;
  return {
    description: "Paper A, Frontiers version and code: hidden Fourier-domain shortcut (v3: ε = 0.25, p = 0.2) — conv models gain far more from it than FC models",
    models: models.map(([m]) => ({ ...m, optim: { lr: 0.002 } })),
    tables: [{
      id: "shortcut", title: "Test accuracy (%) on clean vs hidden-shortcut data", attack: "",
      columns: [{ quantity: "test_accuracy", label: "clean", dataset: base }, { quantity: "test_accuracy", label: "hidden shortcut", dataset: "hidden-shortcut" }],
      rows: models.map(([m, [clean, shortcut]]) => ({ model: m.key, paper: { clean, "hidden shortcut": shortcut } })),
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
    for (const m of b.models) {
      for (const seed of b.seeds) {
        const where = `${d.key}/${m.key}/seed-${seed}`;
        const tags = { dataset: d.key, model: m.key, seed };
        const run = `runs/${where}`;
        const train: TrainInputs = { model: { name: m.name, options: m.options }, dataset: d.ref, train: b.train, seed, ...(m.optim ? { optim: m.optim } : {}) };
        jobs.push({ id: run, kind: "train", tags, inputs: { ...train } });
        if (b.attack === null) continue;
        const extraAttacks = b.minimalNorm === null ? [] : (["l2", "linf"] as const).map((norm) =>
          ({ key: `fmn-${norm}`, attack: { attack: "fmn", norm, eps: null, options: { steps: b.minimalNorm!.steps } } satisfies AttackRef }));
        const measure: MeasureInputs = {
          checkpoints: b.checkpoints, seed, attack: b.attack, extraAttacks, transfer: b.transfer, breakpoints: b.breakpoints, layerSpectra: b.layerSpectra, linear: m.linear,
        };
        jobs.push({ id: `tensors/${where}`, kind: "measure", tags, inputs: { ...measure }, deps: { run } });
      }
    }
  }
  return jobs;
}

export function studySpec(study: StudyName, o: CatalogOptions): StudySpec {
  const b = scaledSettings(study, o);
  if (o.models) {
    const known = b.models.map((m) => m.key);
    const unknown = o.models.filter((k) => !known.includes(k));
    if (unknown.length) throw new RangeError(`models: ${unknown.join(", ")} not in study ${study} at scale ${o.scale} (it has ${known.join(", ")})`);
    b.models = b.models.filter((m) => o.models!.includes(m.key));
    b.tables = b.tables.map((t) => ({ ...t, rows: t.rows.filter((r) => o.models!.includes(r.model)) })).filter((t) => t.rows.length > 0);
  }
  if (o.epochs !== undefined) {
    b.train.epochs = o.epochs;
    if (b.breakpoints) b.breakpoints.epochs = breakpointEpochs(o.epochs);
  }
  if (o.trainExamples !== undefined) b.train.trainExamples = o.trainExamples;
  if (o.testExamples !== undefined) b.train.testExamples = o.testExamples;
  if (b.attack && o.attackSteps !== undefined) b.attack.attack = { ...b.attack.attack, options: { ...b.attack.attack.options, steps: o.attackSteps } };
  if (b.attack && o.attackExamples !== undefined) {
    b.attack.examples = o.attackExamples;
    b.attack.batchSize = Math.min(b.attack.batchSize, o.attackExamples);
  }
  return { study: b.study, scale: b.scale, description: b.description, models: b.models, tables: b.tables, jobs: paperAJobs(b) };
}

function scaledSettings(study: StudyName, o: CatalogOptions): Built {
  const s = SCALE[o.scale];
  const datasetName = o.dataset ?? s.dataset;
  const real = datasetName !== "fourier-classes";
  const dataset = datasetEntry(datasetName, s);
  const train = {
    epochs: s.epochs, batchSize: s.batchSize,
    // At reduced scale on real data the subset sizes of the synthetic set apply.
    ...(real && o.scale !== "paper" ? { trainExamples: s.synthetic.train, testExamples: s.synthetic.test } : {}),
    checkpointEveryIters: 0, earlyEpochs: 1,
  };
  const base: Omit<Built, "description" | "models" | "tables"> = {
    study, scale: o.scale, datasets: [dataset], seeds: o.seeds ?? [0], train, attack: pgd(s),
    checkpoints: "best", minimalNorm: null, transfer: false, breakpoints: null, layerSpectra: false,
  };
  const side = s.synthetic.size;
  switch (study) {
    case "ifr": return { ...base, ...ifr(o.scale) };
    case "init-scale": return { ...base, ...initScale(o.scale), layerSpectra: true };
    case "kernel-size": return { ...base, ...kernelSize(o.scale, real ? 32 : side) };
    case "architectures": return { ...base, ...architectures(o.scale) };
    case "hidden-shortcut": {
      const shortcut: DatasetEntry = { key: "hidden-shortcut", ref: { name: "hidden-shortcut", options: { ...dataset.ref.options, hiddenShortcut: { base: datasetName as ImageDatasetName, preset: "v3" } } } };
      return { ...base, datasets: [dataset, shortcut], attack: null, ...hiddenShortcutModels(dataset.key, o.scale) };
    }
    case "dynamics": {
      // Paper A, v1 Figs. 1–3, 6, 7: ResNet18 at paper scale; a ReLU conv net that trains in seconds elsewhere.
      const epochs = o.scale === "paper" ? 40 : o.scale === "demo" ? 3 : 2;
      const m = o.scale === "paper"
        ? model("resnet18", "ResNet18", "resnet18", {})
        : model("bwconv-relu", "Bounded Width Convolution (ReLU)", "bwconv", { channels: 32, activation: "relu" });
      return {
        ...base,
        description: "Paper A, v1 Figs. 1–3, 6, 7: learning dynamics — success vs accuracy, ‖δ‖ and spectra over checkpoints, transfer from the best checkpoint, ReLU flips and roughness along adversarial vs random directions",
        models: [m],
        train: { ...train, epochs, checkpointEveryIters: o.scale === "paper" ? 30 : o.scale === "demo" ? 5 : 2, earlyEpochs: 1 },
        attack: pgd(s, "train", Math.min(100, s.attack.examples)),
        checkpoints: "all",
        minimalNorm: { steps: o.scale === "paper" ? 1000 : o.scale === "demo" ? 50 : 5 },
        transfer: true,
        breakpoints: { epochs: breakpointEpochs(epochs), examples: o.scale === "smoke" ? 8 : o.scale === "demo" ? 50 : 100, points: o.scale === "smoke" ? 8 : o.scale === "demo" ? 32 : 100 },
        tables: [{ id: "dynamics", title: "Best checkpoint", attack: "pgd-linf", columns: [{ quantity: "success_rate", label: "success %" }, ACCURACY_COLUMN, { quantity: "delta_centroid", label: "centroid" }], rows: [{ model: m.key }] }],
      };
    }
  }
}
