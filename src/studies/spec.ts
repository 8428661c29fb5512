// What a study is: a declarative spec (datasets × models × seeds, how to train, which attack,
// which measurements) that the runner expands into jobs. Everything in it is plain JSON: it is
// written to study.json, and each job's key is derived from the parts of it the job reads.
import type { DatasetName } from "../data/index.js";
import type { Table } from "../store/tables.js";
import type { OptimDefaults } from "../train/defaults.js";
import type { DatasetOptions } from "../train/run.js";

export const STUDY_NAMES = ["ifr", "init-scale", "dynamics", "kernel-size", "architectures", "hidden-shortcut"] as const;
export type StudyName = (typeof STUDY_NAMES)[number];
export const SCALES = ["smoke", "demo", "paper"] as const;
/** smoke: seconds (tests); demo: ≤ 2 min on 2 CPU cores on built-in data; paper: the paper's settings. */
export type Scale = (typeof SCALES)[number];

export interface DatasetEntry {
  /** Name in the database and folders (e.g. 'fourier-classes', 'hidden-shortcut'). */
  key: string;
  name: DatasetName;
  options?: DatasetOptions;
}

export interface ModelEntry {
  /** Name in the database and folders, unique in the study (e.g. 'fc-deep-linear'). */
  key: string;
  label: string;
  name: string;
  options: Record<string, unknown>;
  optim?: Partial<OptimDefaults>;
  /** Panels of sweeps (α, kernel size) draw the models of a group together. */
  group?: string;
  /** Exactly linear: the end-to-end predictor β is measured. */
  linear: boolean;
}

export interface AttackSpec {
  /** Key of its rows ('pgd-linf'). */
  key: string;
  eps: number;
  steps: number;
  /** Absolute step (paper A's code: Foolbox-native default 0.01). */
  stepsize: number;
  randomStart: boolean;
  /** The first N examples of the split are attacked. */
  examples: number;
  split: "train" | "test";
  batchSize: number;
}

export interface StudySpec {
  study: StudyName;
  scale: Scale;
  description: string;
  datasets: DatasetEntry[];
  models: ModelEntry[];
  seeds: number[];
  train: {
    epochs: number;
    batchSize: number;
    trainExamples?: number;
    testExamples?: number;
    checkpointEveryIters: number;
    earlyEpochs: number;
  };
  /** Null: the study only trains (hidden-shortcut). */
  attack: AttackSpec | null;
  /** Which checkpoints are attacked: the final one, or every one (learning dynamics). */
  checkpoints: "final" | "all";
  /** Minimal-norm attacks (FMN L2 and L∞) at every attacked checkpoint, for ‖δ‖ over training. */
  minimalNorm: { steps: number } | null;
  /** Perturbations of the final model applied to every attacked checkpoint. */
  transfer: boolean;
  /** ReLU flips and roughness along x→x+δ_final and x→x+r at these epochs. */
  breakpoints: { epochs: number[]; examples: number; points: number } | null;
  /** Singular values of every layer's map at the final checkpoint. */
  layerSpectra: boolean;
  tables: Table[];
}
