// `evaluate`: a checkpoint of a run on a split of a dataset (the run's own, or another: paper B
// trains on a perturbation set and evaluates on clean data). Rows: eval_accuracy, eval_loss.
import { DATASET_NAMES, DataLoader, type DatasetRef, SPLITS, type Split, dataIdentity, loadSplit, resolveRef } from "../../data/index.js";
import { RunDir } from "../../store/run.js";
import * as torch from "../../torch/index.js";
import { findCheckpoint, loadCheckpointModel, readRunConfig } from "../../train/run-model.js";
import { evaluate as evaluateModel } from "../../train/trainer.js";
import { OptionError } from "../../util/schema.js";
import type { JobKind } from "../graph.js";
import { Rows } from "../rows.js";

export interface EvaluateInputs {
  /** "best", "last" or a checkpoint file. */
  checkpoint: string;
  /** Default: the run's own dataset. */
  dataset?: DatasetRef;
  split: Split;
  /** The first N examples (default all). */
  examples?: number;
}

const datasetOf = (i: EvaluateInputs, run: RunDir): DatasetRef => i.dataset ?? resolveRef(readRunConfig(run).dataset, run.path);

export const evaluate: JobKind = {
  name: "evaluate",
  summary: "accuracy and loss of a checkpoint on a split of a dataset",
  check(spec) {
    const i = spec.inputs as Partial<EvaluateInputs>;
    if (!spec.deps?.run) throw new OptionError(`${spec.id}: an evaluate job needs the run it evaluates (deps.run)`);
    if (typeof i.checkpoint !== "string") throw new OptionError(`${spec.id}: inputs.checkpoint must be "best", "last" or a checkpoint file`);
    if (!SPLITS.includes(i.split!)) throw new OptionError(`${spec.id}: inputs.split is ${JSON.stringify(i.split)}; allowed: ${SPLITS.join(", ")}`);
    if (i.dataset !== undefined && !DATASET_NAMES.includes(i.dataset.name)) throw new OptionError(`${spec.id}: inputs.dataset.name is ${JSON.stringify(i.dataset.name)}; allowed: ${DATASET_NAMES.join(", ")}`);
    if (i.examples !== undefined && !(Number.isSafeInteger(i.examples) && i.examples >= 1)) throw new OptionError(`${spec.id}: inputs.examples must be an integer ≥ 1`);
  },
  identity(spec, env) {
    const i = spec.inputs as unknown as EvaluateInputs;
    // The run's own dataset is identified through the run's key.
    return i.dataset ? dataIdentity(i.dataset, env.dataDir) : null;
  },
  run(ctx) {
    const i = ctx.spec.inputs as unknown as EvaluateInputs;
    const run = new RunDir(ctx.deps.run!.dir);
    const config = readRunConfig(run);
    const c = findCheckpoint(run, i.checkpoint);
    const data = loadSplit(datasetOf(i, run), i.split, i.examples, ctx.dataDir);
    const model = loadCheckpointModel(run, config, c).to(ctx.device ?? "cpu");
    try {
      const r = evaluateModel(model, new DataLoader(data, { batchSize: 500, shuffle: false, device: ctx.device }).epoch(0));
      const rows = new Rows({ ...ctx.spec.tags, checkpoint: c.file.replace(/\.safetensors$/, ""), epoch: c.epoch, iteration: c.iteration, best: c.file === run.index().best });
      rows.scalar("", "eval_accuracy", 100 * r.accuracy);
      rows.scalar("", "eval_loss", r.loss);
      return { rows: rows.rows, files: [], info: { checkpoint: c.file, examples: data.labels.shape[0]! } };
    } finally {
      model.dispose();
      torch.dispose(data);
    }
  },
};
