// One model trained on one dataset into a run folder, from a plain settings object: what
// `advdyn train` and every study's training jobs call. The run folder's run.json records the
// settings, so the run rebuilds its model and data alone (see runData).
import { resolve as resolvePath } from "node:path";
import { DataLoader, type DatasetRef, dataIdentity, datasetFiles, loadSplit, resolveRef } from "../data/index.js";
import { createModel, describeModel } from "../models/index.js";
import type { Module } from "../nn/module.js";
import { Adam } from "../optim/adam.js";
import { Schedule } from "../optim/schedule.js";
import { SGD } from "../optim/sgd.js";
import { mkdirSync } from "node:fs";
import { FolderLock } from "../store/lock.js";
import { type CheckpointIndex, type Keep, RunDir } from "../store/run.js";
import { removeOrphanTemps } from "../util/atomic.js";
import type { Norm } from "../attacks/norms.js";
import { type AttackRef, attackEpsilons, createAttack, describeAttack, resolveAttack } from "../attacks/registry.js";
import { OptionError } from "../util/schema.js";
import { firstDifference } from "../util/json.js";
import * as torch from "../torch/index.js";
import { type OptimDefaults, optimDefaults } from "./defaults.js";
import { train } from "./trainer.js";

export interface RunSettings {
  model: { name: string; options: Record<string, unknown> };
  /** A folder dataset's path may be relative: to the run folder. */
  dataset: DatasetRef;
  /** Use the first N examples of a split (default all). */
  trainExamples?: number;
  testExamples?: number;
  epochs: number;
  batchSize: number;
  seed: number;
  augment?: boolean;
  /** Overrides of the model's paper settings (train/defaults.ts). */
  optim?: Partial<OptimDefaults>;
  checkpointEveryIters?: number;
  earlyEpochs?: number;
  /** Adversarial training (absent: standard training). */
  adversarial?: AdversarialSettings;
  /** Which checkpoint files stay (default all; studies keep what they measure). */
  keep?: Keep;
  /** Forward passes under autocast (bf16, or fp16 on CUDA); default fp32, the papers' setting. */
  precision?: torch.Precision;
}

/** Adversarial training's attack (one ε) and the test examples robust accuracy is measured on. */
export interface AdversarialSettings {
  attack: AttackRef;
  /** The first N test examples (default 500). */
  examples?: number;
}

/**
 * A training attack with Madry et al.'s defaults where the attack has such options (random start,
 * 10 steps of ε/4), overridden by `options`.
 */
export function trainingAttack(attack: string, norm: Norm, eps: number, options: Record<string, unknown> = {}): AttackRef {
  const schema = describeAttack(attack).schema;
  const madry = Object.entries({ steps: 10, relStepsize: 0.25, randomStart: true }).filter(([k]) => k in schema);
  return { attack, norm, eps, options: { ...Object.fromEntries(madry), ...options } };
}

/** What run.json holds: the settings with every default resolved. */
export interface RunConfig {
  model: { name: string; options: Record<string, unknown> };
  dataset: DatasetRef & {
    trainExamples: number;
    testExamples: number;
    /** SHA-256 of the set's files ('' for generated sets): other data, another run. */
    identity: string;
    /** The data folder the run was trained from (when one was given), where commands on the run look first. */
    dataDir?: string;
  };
  epochs: number;
  batchSize: number;
  seed: number;
  augment: boolean;
  optim: OptimDefaults;
  checkpointEveryIters: number;
  earlyEpochs: number;
  /** With every attack option resolved; absent for standard training (so older runs' configurations still match). */
  adversarial?: { attack: AttackRef; examples: number };
  /** Absent: all (as before the setting existed). */
  keep?: Keep;
  /** Absent: fp32. Attacks on the run's checkpoints use it too. */
  precision?: Exclude<torch.Precision, "fp32">;
}

/**
 * The adversarial settings resolved (attack options with their defaults, so equal attacks give
 * equal run configurations and job keys), or an OptionError naming what cannot train.
 */
export function resolveAdversarial(a: AdversarialSettings): NonNullable<RunConfig["adversarial"]> {
  const attack = resolveAttack(a.attack);
  const eps = attackEpsilons(attack);
  if (eps.length !== 1 || typeof eps[0] !== "number" || !(eps[0] > 0)) {
    throw new OptionError(`adversarial training: the attack needs one ε > 0, got ${JSON.stringify(a.attack.eps)}`);
  }
  if (describeAttack(attack.attack).targets === "targeted") throw new OptionError(`adversarial training: ${attack.attack} is a targeted attack; train with an untargeted one (pgd, fgsm, ...)`);
  const examples = a.examples ?? 500;
  if (!(Number.isSafeInteger(examples) && examples >= 1)) throw new OptionError(`adversarial training: examples must be an integer ≥ 1, got ${examples}`);
  return { attack, examples };
}


export interface TrainRunOptions {
  dataDir?: string;
  device?: "cpu" | "cuda";
  /** Progress bar on stderr (default true). */
  progress?: boolean;
  /** Called once the run is set up, before training (for a one-line description). */
  onStart?: (info: { config: RunConfig; model: Module; resumed: boolean }) => void;
}

/** A precision the device can run: libtorch autocasts CPU tensors to bfloat16 only. */
export function checkPrecision(precision: torch.Precision, device: string): torch.Precision {
  if (!torch.PRECISIONS.includes(precision)) throw new OptionError(`precision: expected ${torch.PRECISIONS.join(", ")}, got ${JSON.stringify(precision)}`);
  if (precision === "fp16" && !device.startsWith("cuda")) throw new OptionError("precision fp16: libtorch autocasts CPU tensors to bfloat16 only; use bf16 on the CPU, or fp16 with --device cuda");
  return precision;
}

export function checkKeep(keep: Keep): Keep {
  if (keep === "all" || keep === "best" || keep === "last" || (Number.isSafeInteger(keep) && (keep as number) >= 1)) return keep;
  throw new OptionError(`keep: expected all, best, last or a number of epochs ≥ 1, got ${JSON.stringify(keep)}`);
}

/**
 * Whether `next` continues the run `existing`: the same data (by identity) from another folder, or
 * the epoch count grew and the learning-rate schedule does not depend on it (cosine does), so the
 * epochs trained so far are those a longer run would have trained, and training goes on from the last one.
 */
export function continues(existing: RunConfig, next: RunConfig): boolean {
  const essential = (c: RunConfig) => ({ ...c, epochs: 0, dataset: { ...c.dataset, dataDir: undefined } });
  if (firstDifference(essential(existing), essential(next)) !== undefined) return false;
  return next.epochs === existing.epochs || (next.epochs > existing.epochs && next.optim.schedule !== "cosine");
}

/** Trains (or resumes, or finds finished, or continues with more epochs) the run in `out`; returns its checkpoint index and configuration. */
export function trainRun(out: string, s: RunSettings, o: TrainRunOptions = {}): { index: CheckpointIndex; config: RunConfig } {
  const device = o.device ?? "cpu";
  // A folder dataset's relative path is relative to the run folder.
  const dataset = resolveRef(s.dataset, out);
  // Settings first: a bad one is refused before any data is read.
  const adversarial = s.adversarial && resolveAdversarial(s.adversarial);
  const keep = s.keep === undefined ? undefined : checkKeep(s.keep);
  const precision = checkPrecision(s.precision ?? "fp32", device);
  const trainSet = loadSplit(dataset, "train", s.trainExamples, o.dataDir);
  const testSet = loadSplit(dataset, "test", s.testExamples, o.dataDir);
  const robustSet = adversarial && loadSplit(dataset, "test", Math.min(adversarial.examples, testSet.labels.shape[0]!), o.dataDir);
  try {
    const schema = describeModel(s.model.name).options;
    // The data fix the input shape and class count; run.json records them so a run rebuilds its model alone.
    const fromData = {
      ...("inputShape" in schema ? { inputShape: trainSet.images.shape.slice(1) } : {}),
      ...("classes" in schema ? { classes: trainSet.classes } : {}),
    };
    const modelOptions = { seed: s.seed, ...fromData, ...s.model.options };
    const optim = { ...optimDefaults(s.model.name, modelOptions), ...s.optim };
    const config: RunConfig = {
      model: { name: s.model.name, options: modelOptions },
      dataset: {
        name: s.dataset.name, ...(s.dataset.options ? { options: s.dataset.options } : {}),
        trainExamples: trainSet.labels.shape[0]!, testExamples: testSet.labels.shape[0]!, identity: dataIdentity(dataset, o.dataDir),
        ...(o.dataDir && datasetFiles(dataset.name, { ...dataset.options, dataDir: o.dataDir }).length ? { dataDir: resolvePath(o.dataDir) } : {}),
      },
      epochs: s.epochs, batchSize: s.batchSize, seed: s.seed, augment: s.augment ?? false, optim,
      checkpointEveryIters: s.checkpointEveryIters ?? 0, earlyEpochs: s.earlyEpochs ?? 1,
      ...(adversarial ? { adversarial } : {}),
      ...(keep && keep !== "all" ? { keep } : {}),
      ...(precision !== "fp32" ? { precision } : {}),
    };
    // The model first: bad options are refused before the run folder is created.
    const model = createModel(s.model.name, modelOptions as never).to(device);
    try {
      // One process per run folder; what a killed one left half-written goes.
      mkdirSync(out, { recursive: true });
      using _lock = FolderLock.acquire(out, "run folder");
      removeOrphanTemps(out);
      const run = new RunDir(out);
      run.open(config, continues);
      const params = model.parameters();
      const optimizer = optim.optimizer === "adam"
        ? new Adam(params, { lr: optim.lr, weightDecay: optim.weightDecay })
        : new SGD(params, { lr: optim.lr, momentum: optim.momentum, weightDecay: optim.weightDecay, nesterov: optim.nesterov });
      try {
        o.onStart?.({ config, model, resumed: run.hasState() });
        const data = {
          train: new DataLoader(trainSet, { batchSize: s.batchSize, seed: s.seed, augment: config.augment, device }),
          trainEval: new DataLoader(trainSet, { batchSize: 500, shuffle: false, device }),
          test: new DataLoader(testSet, { batchSize: 500, shuffle: false, device }),
        };
        const schedule = new Schedule(optim.schedule, optim.lr, { totalEpochs: s.epochs });
        const index = train(model, data, run, {
          epochs: s.epochs, seed: s.seed, optimizer, schedule, progress: o.progress,
          checkpointEveryIters: config.checkpointEveryIters, earlyEpochs: config.earlyEpochs, keep: config.keep, precision,
          ...(adversarial ? {
            adversarial: {
              attack: createAttack(adversarial.attack), epsilon: attackEpsilons(adversarial.attack)[0]!,
              robust: new DataLoader(robustSet!, { batchSize: 250, shuffle: false, device }),
            },
          } : {}),
        });
        return { index, config };
      } finally {
        optimizer.dispose();
      }
    } finally {
      model.dispose();
    }
  } finally {
    torch.dispose([trainSet, testSet, robustSet]);
  }
}
