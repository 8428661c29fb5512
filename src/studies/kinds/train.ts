// `train`: one model on one dataset into the run folder <id> (train/run.ts), resumable from its
// last epoch. The dataset is a named set, or the one a dependency produced (`{ from: role }`, e.g.
// a derive-dataset job's folder). Rows: loss and accuracy of every checkpoint. A diverged run is a
// result: recorded (row `diverged`, info.diverged), its checkpoints kept, and nothing measures it.
import { relative } from "node:path";
import { DATASET_NAMES, type DatasetRef, dataIdentity } from "../../data/index.js";
import { modelInfoFor } from "../../models/index.js";
import { filesUnder } from "../../store/jobs.js";
import { RunDir } from "../../store/run.js";
import type { RunSettings } from "../../train/run.js";
import { trainRun } from "../../train/run.js";
import { TrainingDiverged } from "../../train/trainer.js";
import { firstDifference } from "../../util/json.js";
import { OptionError } from "../../util/schema.js";
import type { JobKind } from "../graph.js";
import { Rows } from "../rows.js";

export interface TrainInputs {
  model: { name: string; options: Record<string, unknown> };
  /** A named dataset, or the dataset folder of the dependency with this role. */
  dataset: DatasetRef | { from: string };
  train: Omit<RunSettings, "model" | "dataset" | "seed" | "optim">;
  seed: number;
  optim?: RunSettings["optim"];
}

const fromDependency = (d: TrainInputs["dataset"]): d is { from: string } => "from" in d;

export const train: JobKind = {
  name: "train",
  summary: "train a model into a run folder, with checkpoints (resumes after an interruption)",
  check(spec) {
    const i = spec.inputs as Partial<TrainInputs>;
    if (!i.model || typeof i.model.name !== "string") throw new OptionError(`${spec.id}: inputs.model must be { name, options }`);
    try {
      modelInfoFor(i.model.name, i.model.options ?? {});
    } catch (e) {
      throw new OptionError(`${spec.id}: inputs.model: ${(e as Error).message}`);
    }
    const d = i.dataset;
    if (!d || (fromDependency(d) ? !spec.deps?.[d.from] : !DATASET_NAMES.includes(d.name))) {
      throw new OptionError(`${spec.id}: inputs.dataset must name a dataset (${DATASET_NAMES.join(", ")}) or { from: <dependency role> }, got ${JSON.stringify(d)}`);
    }
    if (!Number.isSafeInteger(i.seed) || i.seed! < 0) throw new OptionError(`${spec.id}: inputs.seed must be an integer ≥ 0`);
    if (!Number.isSafeInteger(i.train?.epochs) || i.train!.epochs < 1) throw new OptionError(`${spec.id}: inputs.train.epochs must be an integer ≥ 1`);
  },
  continues(previous, next) {
    const [p, n] = [previous.inputs, next.inputs] as unknown as [TrainInputs, TrainInputs];
    return firstDifference({ ...p, train: { ...p.train, epochs: 0 } }, { ...n, train: { ...n.train, epochs: 0 } }) === undefined &&
      firstDifference(previous.tags, next.tags) === undefined && n.train.epochs > p.train.epochs;
  },
  identity(spec, env) {
    const d = (spec.inputs as unknown as TrainInputs).dataset;
    // A dependency's dataset is identified by the dependency's key.
    return fromDependency(d) ? null : dataIdentity(d, env.dataDir);
  },
  run(ctx) {
    const i = ctx.spec.inputs as unknown as TrainInputs;
    const dataset: DatasetRef = fromDependency(i.dataset)
      ? { name: "folder", options: { folder: relative(ctx.dir, ctx.deps[i.dataset.from]!.dir) } }
      : i.dataset;
    let diverged: string | undefined;
    try {
      trainRun(ctx.dir, { ...i.train, model: i.model, dataset, seed: i.seed, ...(i.optim ? { optim: i.optim } : {}) },
        { dataDir: ctx.dataDir, device: ctx.device, progress: ctx.progress });
    } catch (e) {
      if (!(e instanceof TrainingDiverged)) throw e;
      diverged = e.message;
      ctx.log(`${ctx.spec.id}: ${e.message}`);
    }
    const index = new RunDir(ctx.dir).index();
    const base = { ...ctx.spec.tags, best: false, checkpoint: "", epoch: -1, iteration: -1 };
    const rows = new Rows(base);
    for (const c of index.checkpoints) {
      const at = new Rows({ ...ctx.spec.tags, checkpoint: c.file.replace(/\.safetensors$/, ""), epoch: c.epoch, iteration: c.iteration, best: c.file === index.best });
      // Accuracies in %, as the paper's tables give them.
      at.scalar("", "train_accuracy", 100 * c.trainAccuracy);
      at.scalar("", "test_accuracy", 100 * c.testAccuracy);
      at.scalar("", "train_loss", c.trainLoss);
      at.scalar("", "test_loss", c.testLoss);
      if (c.robustAccuracy !== undefined) at.scalar("", "robust_accuracy", 100 * c.robustAccuracy);
      rows.rows.push(...at.rows);
    }
    if (diverged) rows.scalar("", "diverged", 1);
    return { rows: rows.rows, files: filesUnder(ctx.root, ctx.spec.id), info: { best: index.best ?? null, ...(diverged ? { diverged } : {}) } };
  },
};
