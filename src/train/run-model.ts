// Rebuilding a trained run's model and data from its folder alone.
import { type Dataset, type Split, loadSplit, resolveRef } from "../data/index.js";
import { createModel } from "../models/index.js";
import type { Module } from "../nn/module.js";
import { readJson } from "../util/json.js";
import { type CheckpointInfo, RunDir, epochCheckpoints } from "../store/run.js";
import * as torch from "../torch/index.js";
import type { RunConfig } from "./run.js";

export function readRunConfig(run: RunDir): RunConfig {
  const config = readJson<RunConfig>(run.configPath);
  if (!config?.model?.name || !config.dataset?.name) throw new Error(`${run.configPath}: not a training run (no model/dataset); train one with advdyn train`);
  return config;
}

/** The run's model with a checkpoint's weights, in eval mode. */
export function loadCheckpointModel(run: RunDir, config: RunConfig, checkpoint: CheckpointInfo): Module {
  const model = createModel(config.model.name, config.model.options as never);
  try {
    model.load(run.checkpointPath(checkpoint.file));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model.eval();
}

/** The first `examples` examples of a split of the run's dataset (inputs float in [0,1]). */
export function loadExamples(run: RunDir, config: RunConfig, split: Split, examples: number, dataDir?: string): Dataset {
  // The data folder the run was trained from, unless the caller names another.
  const ds = loadSplit(resolveRef(config.dataset, run.path), split, examples, dataDir ?? config.dataset.dataDir);
  return torch.tidy(() => {
    const x = ds.images.dtype === "uint8" ? ds.images.to("float32").div(255) : ds.images.to("float32");
    const out = { ...ds, images: x };
    torch.dispose(ds.images);
    return out;
  });
}

/** A checkpoint named "best", "last" (the last epoch) or by its file name. */
export function findCheckpoint(run: RunDir, which: string): CheckpointInfo {
  const index = run.index();
  const file = which === "best" ? index.best : which === "last" ? epochCheckpoints(index).at(-1)?.file : which;
  const c = index.checkpoints.find((x) => x.file === file);
  if (!c) throw new Error(`${run.indexPath}: the run has no ${which === "best" || which === "last" ? `${which} checkpoint` : `checkpoint ${which}`}`);
  return present(run, c);
}

/** The checkpoint, or an error when the run's keep setting deleted its file. */
function present(run: RunDir, c: CheckpointInfo): CheckpointInfo {
  if (c.removed) throw new Error(`${run.indexPath}: checkpoint ${c.file} was deleted by the run's keep setting (run.json); retrain with --keep all to measure it`);
  return c;
}

/** Checkpoints chosen by "all", "best", "last" or a comma list of epochs. */
export function selectCheckpoints(run: RunDir, which: string): CheckpointInfo[] {
  const index = run.index();
  const epochs = epochCheckpoints(index);
  if (index.checkpoints.length === 0) throw new Error(`${run.indexPath}: the run has no checkpoints yet`);
  if (which === "all") return index.checkpoints.filter((c) => !c.removed);
  if (which === "best") return index.checkpoints.filter((c) => c.file === index.best).map((c) => present(run, c));
  if (which === "last") return epochs.slice(-1);
  const wanted = which.split(",").map((s) => Number(s.trim()));
  if (wanted.some((e) => !Number.isInteger(e) || e < 0)) throw new RangeError(`checkpoints: expected all, best, last or epochs like 0,1,5, got '${which}'`);
  return wanted.map((e) => {
    const c = epochs.find((x) => x.epoch === e);
    if (!c) throw new RangeError(`checkpoints: the run has no epoch ${e} (it has ${epochs.map((x) => x.epoch).join(", ")})`);
    return present(run, c);
  });
}
