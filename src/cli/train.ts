// `advdyn train`: one model on one dataset into a run folder, resumable.
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { NAMED_DATASETS, type DatasetName, type DatasetRef } from "../data/index.js";
import { describeModel, modelNames } from "../models/index.js";
import { SCHEDULES } from "../optim/schedule.js";
import { RunDir } from "../store/run.js";
import { optimDefaults } from "../train/defaults.js";
import { type RunSettings, trainRun } from "../train/run.js";
import { choice, integer, number, parse, schemaOptions } from "./options.js";
import { UsageError } from "./usage.js";

export const TRAIN_USAGE = `advdyn train --model NAME [model options] --dataset NAME --out RUN [options]
  --model         ${modelNames().join(" | ")}
                  model options as --name value, e.g. --activation linear --depth 3 --kernel 5 --channels 32 --init-scale 10
  --dataset       ${NAMED_DATASETS.join(" | ")} (default fourier-classes), or a dataset folder (holding dataset.json)
  --data-dir DIR  where real datasets live (default ~/.advdyn/data; fetch with advdyn data get)
  --epochs N (default 40)  --batch-size B (default 128)  --seed S (default 0)
  --lr X  --optimizer sgd|adam  --momentum M  --weight-decay W  --nesterov  --schedule ${SCHEDULES.join("|")}
                  (defaults: the model's paper settings)
  --augment       random crop (pad 4) + horizontal flip
  --checkpoint-every-iters N  --early-epochs E (default 1): extra checkpoints every N steps in the first E epochs
  --train-examples N  --test-examples N   use the first N examples of a split
  --device cpu|cuda  --json`;

/** A dataset name, or a dataset folder (one holding dataset.json), recorded relative to the run folder. */
function datasetArg(value: string | undefined, out: string): DatasetRef {
  if (value !== undefined && existsSync(join(value, "dataset.json"))) return { name: "folder", options: { folder: relative(out, resolve(value)) } };
  const name = choice<DatasetName>("dataset", value, NAMED_DATASETS, "fourier-classes");
  return { name };
}

export function trainCommand(args: string[]): number {
  const { values: v, positionals, rest } = parse(args, {
    model: { type: "string" }, dataset: { type: "string" }, "data-dir": { type: "string" }, out: { type: "string" },
    epochs: { type: "string" }, "batch-size": { type: "string" }, seed: { type: "string" }, lr: { type: "string" },
    optimizer: { type: "string" }, momentum: { type: "string" }, "weight-decay": { type: "string" }, nesterov: { type: "boolean" },
    schedule: { type: "string" }, augment: { type: "boolean" }, "checkpoint-every-iters": { type: "string" }, "early-epochs": { type: "string" },
    "train-examples": { type: "string" }, "test-examples": { type: "string" }, device: { type: "string" }, json: { type: "boolean" },
  }, true);
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const modelName = choice("model", v.model, modelNames(), undefined as never);
  if (modelName === undefined) throw new UsageError("--model is required");
  if (v.out === undefined) throw new UsageError("--out RUN (the run folder) is required");
  const dataset = datasetArg(v.dataset, v.out);
  const device = choice("device", v.device, ["cpu", "cuda"] as const, "cpu");
  const modelOptions = schemaOptions(`model ${modelName}`, describeModel(modelName).options, rest);
  const d = optimDefaults(modelName, modelOptions);
  const limit = (split: "train" | "test", n: string | undefined) => {
    const value = integer(`${split}-examples`, n, Infinity, 1);
    return Number.isFinite(value) ? value : undefined;
  };
  const settings: RunSettings = {
    model: { name: modelName, options: modelOptions },
    dataset,
    trainExamples: limit("train", v["train-examples"]),
    testExamples: limit("test", v["test-examples"]),
    epochs: integer("epochs", v.epochs, 40, 1),
    batchSize: integer("batch-size", v["batch-size"], 128, 1),
    seed: integer("seed", v.seed, 0, 0),
    augment: v.augment ?? false,
    optim: {
      optimizer: choice("optimizer", v.optimizer, ["sgd", "adam"] as const, d.optimizer),
      lr: number("lr", v.lr, d.lr, Number.MIN_VALUE),
      momentum: number("momentum", v.momentum, d.momentum, 0),
      weightDecay: number("weight-decay", v["weight-decay"], d.weightDecay, 0),
      nesterov: v.nesterov ?? d.nesterov,
      schedule: choice("schedule", v.schedule, SCHEDULES, d.schedule),
    },
    checkpointEveryIters: integer("checkpoint-every-iters", v["checkpoint-every-iters"], 0, 0),
    earlyEpochs: integer("early-epochs", v["early-epochs"], 1, 0),
  };
  const { index } = trainRun(v.out, settings, {
    dataDir: v["data-dir"], device,
    onStart: ({ config: c, model, resumed }) => {
      if (v.json) return;
      console.log(`${modelName} (${model.parameterCount().toLocaleString("en-US")} parameters) on ${v.dataset ?? dataset.name}: ${c.dataset.trainExamples} train / ${c.dataset.testExamples} test, ` +
        `${c.optim.optimizer} lr ${c.optim.lr} (${c.optim.schedule}), ${c.epochs} epochs, into ${v.out}${resumed ? " (resuming)" : ""}`);
    },
  });
  const run = new RunDir(v.out);
  if (v.json) console.log(JSON.stringify(index, null, 2));
  else {
    console.log("epoch  iter    train loss  train acc  test loss  test acc");
    for (const c of index.checkpoints.filter((c) => c.file === RunDir.epochFile(c.epoch))) {
      console.log(`${String(c.epoch).padStart(5)}  ${String(c.iteration).padStart(6)}  ${c.trainLoss.toFixed(4).padStart(10)}  ${c.trainAccuracy.toFixed(4).padStart(9)}  ${c.testLoss.toFixed(4).padStart(9)}  ${c.testAccuracy.toFixed(4).padStart(8)}`);
    }
    console.log(`best: ${index.best}; checkpoints in ${run.checkpointPath("")}`);
  }
  return 0;
}
