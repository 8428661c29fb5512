// `attack-set`: attack the first N examples of a split with a registered attack, at one checkpoint
// of a run, and store per example δ (per ε), success, the adversarial class and logits, and the
// targets of a targeted attack: <id>/attack.safetensors, with <id>/summary.json (what `advdyn
// attack` prints, and where a derive-dataset job finds the source data).
//
// The run is a dependency (deps.run, in a study) or a folder outside the store (inputs.run,
// relative to the store's root: `advdyn attack` keeps its store inside the run folder).
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { attackEach, rowsOf } from "../../attacks/batch.js";
import { TARGET_MODES, type TargetMode } from "../../attacks/criteria.js";
import { type AttackRef, attackEpsilons, checkTargets, createAttack, resolveAttack } from "../../attacks/registry.js";
import type { Epsilon } from "../../attacks/types.js";
import { type Dataset, SPLITS, type Split, dataIdentity, deriveSeed, resolveRef, uniformNoise, uniformNoiseImages, uniformNoiseLabels } from "../../data/index.js";
import { AttackModel } from "../../nn/attack-model.js";
import { RunDir } from "../../store/run.js";
import type { JobSpec } from "../../store/study-folder.js";
import * as torch from "../../torch/index.js";
import { findCheckpoint, loadCheckpointModel, loadExamples, readRunConfig } from "../../train/run-model.js";
import { type RunConfig, checkPrecision } from "../../train/run.js";
import { writeJson } from "../../util/json.js";
import { Progress } from "../../util/progress.js";
import { OptionError } from "../../util/schema.js";
import { type JobContext, type JobKind, jobKey } from "../graph.js";
import { Rows } from "../rows.js";

export interface AttackSetInputs {
  /** Key of its rows ('pgd-l2'). */
  key: string;
  attack: AttackRef;
  /** "best", "last" or a checkpoint file of the run. */
  checkpoint: string;
  split: Split;
  /** The first N examples of the split. */
  examples: number;
  batchSize: number;
  targets: TargetMode;
  seed: number;
  /** A run outside the store: its folder relative to the root (else deps.run). */
  run?: string;
  /**
   * What is attacked: the split's examples (default), or as many images uniform on [0, 1] with
   * random labels, drawn from `seed` (paper B's noise scenario; its targets: "random").
   */
  base?: "data" | "uniform";
  /** The attack's forward passes under autocast (default the run's precision). */
  precision?: torch.Precision;
}

/** Where an attack-set's examples come from: the run folder (relative to the root), the split, how many, natural or noise. */
export interface AttackSource {
  run: string;
  split: Split;
  examples: number;
  base: "data" | "uniform";
  seed: number;
}

/** summary.json: the results per ε, and where the attacked examples came from. */
export interface AttackSetSummary {
  checkpoint: string;
  epoch: number;
  iteration: number;
  examples: number;
  cleanAccuracy: number;
  perEpsilon: { epsilon: Epsilon; successRate: number; successOnCorrectRate: number; meanL2: number; meanLinf: number }[];
  attack: string;
  source: AttackSource;
  targets: TargetMode;
}

/**
 * The examples of an attack-set's source (floats in [0, 1]): the first N of the run's split, or
 * uniform noise images of the split's shape drawn from the seed. The job and derive-dataset read
 * them in pieces (sourceLabels, sourceImages), never whole.
 */
export function sourceExamples(run: RunDir, config: RunConfig, source: AttackSource, dataDir?: string): Dataset {
  // Summaries written before the noise option have no base: data.
  if (source.base !== "uniform") return loadExamples(run, config, source.split, source.examples, dataDir);
  const { shape, classes } = exampleShape(run, config, source, dataDir);
  return uniformNoise(source.examples, shape, classes, noiseSeed(source));
}

/**
 * The images of sourceExamples, the first `count` of them, in pieces of `rows` images, each the
 * caller's to dispose: noise is drawn piece by piece, never whole (3.8 GB for paper B's largest set).
 */
export function* sourceImages(run: RunDir, config: RunConfig, source: AttackSource, count: number, rows: number, dataDir?: string): Generator<torch.Tensor> {
  if (source.base === "uniform") return yield* uniformNoiseImages(count, exampleShape(run, config, source, dataDir).shape, noiseSeed(source), rows);
  const data = loadExamples(run, config, source.split, count, dataDir);
  try {
    yield* rowsOf(data.images, count, rows);
  } finally {
    torch.dispose(data);
  }
}

/** The labels of sourceExamples, and its classes, without holding noise images. */
function sourceLabels(run: RunDir, config: RunConfig, source: AttackSource, dataDir?: string): { labels: torch.Tensor; classes: number } {
  if (source.base !== "uniform") {
    const data = sourceExamples(run, config, source, dataDir);
    data.images.dispose();
    return { labels: data.labels, classes: data.classes };
  }
  const { shape, classes } = exampleShape(run, config, source, dataDir);
  return { labels: uniformNoiseLabels(source.examples, shape, classes, noiseSeed(source)), classes };
}

const noiseSeed = (source: AttackSource) => deriveSeed(source.seed, "attack-set noise");

/** One example's shape and the classes of the source's split (read from its first example). */
function exampleShape(run: RunDir, config: RunConfig, source: AttackSource, dataDir?: string): { shape: number[]; classes: number } {
  const one = loadExamples(run, config, source.split, 1, dataDir);
  try {
    return { shape: one.images.shape.slice(1), classes: one.classes };
  } finally {
    torch.dispose(one);
  }
}

const runDir = (ctx: { root: string }, spec: JobSpec, depDir?: string) =>
  depDir ?? join(ctx.root, (spec.inputs as unknown as AttackSetInputs).run!);

export const attackSet: JobKind = {
  name: "attack-set",
  summary: "attack N examples of a split at a checkpoint; store δ, success, adversarial class, logits and targets",
  check(spec) {
    const i = spec.inputs as Partial<AttackSetInputs>;
    if ((spec.deps?.run === undefined) === (i.run === undefined)) throw new OptionError(`${spec.id}: give the run as deps.run or as inputs.run (a folder), exactly one`);
    if (typeof i.key !== "string" || i.key === "") throw new OptionError(`${spec.id}: inputs.key must be a non-empty string`);
    try {
      resolveAttack(i.attack!);
      checkTargets(i.attack!, i.targets ?? "none");
    } catch (e) {
      throw new OptionError(`${spec.id}: inputs.attack: ${(e as Error).message}`);
    }
    if (!TARGET_MODES.includes(i.targets!)) throw new OptionError(`${spec.id}: inputs.targets is ${JSON.stringify(i.targets)}; allowed: ${TARGET_MODES.join(", ")}`);
    if (!SPLITS.includes(i.split!)) throw new OptionError(`${spec.id}: inputs.split is ${JSON.stringify(i.split)}; allowed: ${SPLITS.join(", ")}`);
    if (i.precision !== undefined && !torch.PRECISIONS.includes(i.precision)) throw new OptionError(`${spec.id}: inputs.precision is ${JSON.stringify(i.precision)}; allowed: ${torch.PRECISIONS.join(", ")}`);
    for (const k of ["examples", "batchSize"] as const) {
      if (!Number.isSafeInteger(i[k]) || i[k]! < 1) throw new OptionError(`${spec.id}: inputs.${k} must be an integer ≥ 1, got ${JSON.stringify(i[k])}`);
    }
    if (!Number.isSafeInteger(i.seed) || i.seed! < 0) throw new OptionError(`${spec.id}: inputs.seed must be an integer ≥ 0`);
    if (i.base !== undefined && i.base !== "data" && i.base !== "uniform") throw new OptionError(`${spec.id}: inputs.base is ${JSON.stringify(i.base)}; allowed: data, uniform`);
  },
  identity(spec, env) {
    const i = spec.inputs as unknown as AttackSetInputs;
    if (i.run === undefined) return null;
    // A run outside the store: identified by its configuration, the checkpoint's record, and the
    // data the examples are read from now (the data folder may differ from the one it was trained on).
    const run = new RunDir(join(env.root, i.run));
    const config = readRunConfig(run);
    const { dataDir, ...dataset } = config.dataset;
    return jobKey({ config: { ...config, dataset }, checkpoint: findCheckpoint(run, i.checkpoint), data: dataIdentity(resolveRef(dataset, run.path), env.dataDir ?? dataDir) });
  },
  run(ctx: JobContext) {
    const i = ctx.spec.inputs as unknown as AttackSetInputs;
    const run = new RunDir(runDir(ctx, ctx.spec, ctx.deps.run?.dir));
    const config = readRunConfig(run);
    const c = findCheckpoint(run, i.checkpoint);
    const source: AttackSource = { run: relative(ctx.root, run.path) || ".", split: i.split, examples: i.examples, base: i.base ?? "data", seed: i.seed };
    const { labels, classes } = sourceLabels(run, config, source, ctx.dataDir);
    const module = loadCheckpointModel(run, config, c);
    const model = new AttackModel(module, { precision: checkPrecision(i.precision ?? config.precision ?? "fp32", ctx.device ?? "cpu") });
    const attack = createAttack(i.attack);
    const epsilons = attackEpsilons(i.attack);
    const n = labels.shape[0]!;
    const tagOf = c.file.replace(/\.safetensors$/, "");
    const progress = ctx.progress ? new Progress(`attack ${tagOf}`, n, "img") : undefined;
    let done = 0;
    mkdirSync(ctx.dir, { recursive: true });
    const file = join(ctx.dir, "attack.safetensors");
    // Each batch's results are written as they come: δ alone is 3.8 GB for paper B's largest set.
    let writer: torch.SafetensorsWriter | undefined;
    try {
      attackEach(model, attack, sourceImages(run, config, source, n, i.batchSize, ctx.dataDir), labels, {
        epsilons, batchSize: i.batchSize, seed: i.seed, targets: i.targets, classes,
        onBatch: (k, successes) => {
          progress?.tick(k - done, { success: successes / k });
          done = k;
        },
      }, (r) => {
        const pieces = new Map<string, torch.Tensor>([
          ...epsilons.map((_, k) => [`delta.${k}`, r.delta.select(1, k)] as const),
          ["success", r.success], ["success_on_correct", r.successOnCorrect], ["clean_correct", r.cleanCorrect],
          ["adversarial_class", r.logits.argmax(2)], ["logits", r.logits],
          ...Object.entries(r.norms).map(([name, t]) => [`norm_${name}`, t as torch.Tensor] as const),
          ...(r.targets ? [["targets", r.targets] as const] : []),
        ]);
        if (!writer) {
          // The header needs every shape up front: the first batch's pieces give the dtypes and row shapes.
          const specs = [...pieces, ["labels", labels] as const].map(([name, t]) => [name, { dtype: t.dtype, shape: [n, ...t.shape.slice(1)] }] as const);
          writer = new torch.SafetensorsWriter(file, new Map(specs), { checkpoint: c.file, attack: attack.name });
          writer.write("labels", labels);
        }
        for (const [name, t] of pieces) writer.write(name, t);
      });
      writer!.close();
    } finally {
      writer?.[Symbol.dispose]();
      model.dispose();
      module.dispose();
      labels.dispose();
    }
    // The statistics are reduced over the written file's whole columns: sums accumulated batch by
    // batch would round differently, and the means would change in their last bits.
    const { tensors } = torch.loadSafetensors(file, { mmap: true });
    try {
      const column = (name: string, k: number) => tensors.get(name)!.select(1, k);
      const mean = (t: torch.Tensor) => torch.tidy(() => t.to("float64").mean().item());
      const summary: AttackSetSummary = {
        checkpoint: c.file, epoch: c.epoch, iteration: c.iteration, examples: n, cleanAccuracy: mean(tensors.get("clean_correct")!),
        perEpsilon: epsilons.map((epsilon, k) => torch.tidy(() => ({
          epsilon, successRate: mean(column("success", k)), successOnCorrectRate: mean(column("success_on_correct", k)),
          meanL2: mean(column("norm_l2", k)), meanLinf: mean(column("norm_linf", k)),
        }))),
        attack: attack.name, source: { ...source, examples: n }, targets: i.targets,
      };
      const summaryPath = join(ctx.dir, "summary.json");
      writeJson(summaryPath, summary);
      const rows = new Rows({ ...ctx.spec.tags, checkpoint: tagOf, epoch: c.epoch, iteration: c.iteration, best: c.file === run.index().best });
      const correct = torch.tidy(() => tensors.get("clean_correct")!.sum().item());
      epsilons.forEach((_, k) => {
        // Rows use paper A's success (clean correct and fooled), as the studies' measurements do.
        const key = epsilons.length === 1 ? i.key : `${i.key}[${k}]`;
        const successes = torch.tidy(() => column("success_on_correct", k).sum().item());
        rows.scalar(key, "examples", n);
        rows.scalar(key, "successes", successes);
        rows.scalar(key, "clean_accuracy", (100 * correct) / n);
        rows.scalar(key, "success_rate", (100 * successes) / n);
        rows.scalar(key, "success_rate_on_correct", correct ? (100 * successes) / correct : 0);
      });
      return { rows: rows.rows, files: [relative(ctx.root, file), relative(ctx.root, summaryPath)], info: { checkpoint: c.file } };
    } finally {
      torch.dispose([...tensors.values()]);
    }
  },
};
