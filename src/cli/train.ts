// `advdyn train`: one model on one dataset into a run folder, resumable.
import { DATASET_NAMES, DEFAULT_DATA_DIR, DataLoader, type DatasetName, loadDataset } from "../data/index.js";
import { createModel, describeModel, modelNames } from "../models/index.js";
import { Adam } from "../optim/adam.js";
import { SCHEDULES, Schedule } from "../optim/schedule.js";
import { SGD } from "../optim/sgd.js";
import { RunDir } from "../store/run.js";
import * as torch from "../torch/index.js";
import { optimDefaults } from "../train/defaults.js";
import { train } from "../train/trainer.js";
import { choice, integer, number, parse } from "./options.js";
import { UsageError } from "./usage.js";

export const TRAIN_USAGE = `advdyn train --model NAME [model options] --dataset NAME --out RUN [options]
  --model         ${modelNames().join(" | ")}
                  model options as --name value, e.g. --activation linear --depth 3 --kernel 5 --channels 32 --init-scale 10
  --dataset       ${DATASET_NAMES.join(" | ")} (default fourier-classes)
  --data-dir DIR  where real datasets live (default ${DEFAULT_DATA_DIR}; fetch with advdyn data get)
  --epochs N (default 40)  --batch-size B (default 128)  --seed S (default 0)
  --lr X  --optimizer sgd|adam  --momentum M  --weight-decay W  --nesterov  --schedule ${SCHEDULES.join("|")}
                  (defaults: the model's paper settings)
  --augment       random crop (pad 4) + horizontal flip
  --checkpoint-every-iters N  --early-epochs E (default 1): extra checkpoints every N steps in the first E epochs
  --train-examples N  --test-examples N   use the first N examples of a split
  --device cpu|cuda  --json`;

/** Command-line values of model options arrive as strings: numbers and booleans are converted. */
function modelValue(v: string): unknown {
  if (v === "true" || v === "false") return v === "true";
  if (/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(v)) return Number(v);
  if (/^\d+(,\d+)+$/.test(v)) return v.split(",").map(Number);
  return v;
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
  const datasetName = choice<DatasetName>("dataset", v.dataset, DATASET_NAMES, "fourier-classes");
  const device = choice("device", v.device, ["cpu", "cuda"] as const, "cpu");
  const known = Object.keys(describeModel(modelName).options);
  const modelOptions: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(rest)) {
    if (!known.includes(k)) throw new UsageError(`unknown option --${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} (model ${modelName} takes: ${known.join(", ")})`);
    modelOptions[k] = modelValue(value);
  }
  const d = optimDefaults(modelName, modelOptions);
  const epochs = integer("epochs", v.epochs, 40, 1);
  const seed = integer("seed", v.seed, 0, 0);
  const batchSize = integer("batch-size", v["batch-size"], 128, 1);
  const optim = {
    optimizer: choice("optimizer", v.optimizer, ["sgd", "adam"] as const, d.optimizer),
    lr: number("lr", v.lr, d.lr, Number.MIN_VALUE),
    momentum: number("momentum", v.momentum, d.momentum, 0),
    weightDecay: number("weight-decay", v["weight-decay"], d.weightDecay, 0),
    nesterov: v.nesterov ?? d.nesterov,
    schedule: choice("schedule", v.schedule, SCHEDULES, d.schedule),
  };
  const limit = (split: "train" | "test", n: string | undefined) => integer(`${split}-examples`, n, Infinity, 1);
  const load = (split: "train" | "test", n: number) => {
    const ds = loadDataset(datasetName, { dataDir: v["data-dir"], split });
    if (n >= ds.labels.shape[0]!) return ds;
    const cut = { ...ds, images: ds.images.narrow(0, 0, n), labels: ds.labels.narrow(0, 0, n) };
    torch.dispose([ds.images, ds.labels]);
    return cut;
  };
  const trainSet = load("train", limit("train", v["train-examples"]));
  const testSet = load("test", limit("test", v["test-examples"]));
  const schema = describeModel(modelName).options;
  // The data fix the input shape and class count; run.json records them so a run rebuilds its model alone.
  const fromData = {
    ...("inputShape" in schema ? { inputShape: trainSet.images.shape.slice(1) } : {}),
    ...("classes" in schema ? { classes: trainSet.classes } : {}),
  };
  const config = {
    model: { name: modelName, options: { seed, ...fromData, ...modelOptions } },
    dataset: { name: datasetName, trainExamples: trainSet.labels.shape[0]!, testExamples: testSet.labels.shape[0]! },
    epochs, batchSize, seed, augment: v.augment ?? false, optim,
    checkpointEveryIters: integer("checkpoint-every-iters", v["checkpoint-every-iters"], 0, 0),
    earlyEpochs: integer("early-epochs", v["early-epochs"], 1, 0),
  };

  const model = createModel(modelName, config.model.options as never).to(device);
  const params = model.parameters();
  const optimizer = optim.optimizer === "adam"
    ? new Adam(params, { lr: optim.lr, weightDecay: optim.weightDecay })
    : new SGD(params, { lr: optim.lr, momentum: optim.momentum, weightDecay: optim.weightDecay, nesterov: optim.nesterov });
  const schedule = new Schedule(optim.schedule, optim.lr, { totalEpochs: epochs });
  const run = new RunDir(v.out);
  run.open(config);
  const resumed = run.hasState();
  const data = {
    train: new DataLoader(trainSet, { batchSize, seed, augment: config.augment, device }),
    trainEval: new DataLoader(trainSet, { batchSize: 500, shuffle: false, device }),
    test: new DataLoader(testSet, { batchSize: 500, shuffle: false, device }),
  };
  if (!v.json) {
    console.log(`${modelName} (${model.parameterCount().toLocaleString("en-US")} parameters) on ${trainSet.name}: ${trainSet.labels.shape[0]} train / ${testSet.labels.shape[0]} test, ` +
      `${optim.optimizer} lr ${optim.lr} (${optim.schedule}), ${epochs} epochs, into ${v.out}${resumed ? " (resuming)" : ""}`);
  }
  const index = train(model, data, run, { epochs, seed, optimizer, schedule, checkpointEveryIters: config.checkpointEveryIters, earlyEpochs: config.earlyEpochs });
  if (v.json) console.log(JSON.stringify(index, null, 2));
  else {
    console.log("epoch  iter    train loss  train acc  test loss  test acc");
    for (const c of index.checkpoints.filter((c) => c.file === RunDir.epochFile(c.epoch))) {
      console.log(`${String(c.epoch).padStart(5)}  ${String(c.iteration).padStart(6)}  ${c.trainLoss.toFixed(4).padStart(10)}  ${c.trainAccuracy.toFixed(4).padStart(9)}  ${c.testLoss.toFixed(4).padStart(9)}  ${c.testAccuracy.toFixed(4).padStart(8)}`);
    }
    console.log(`best: ${index.best}; checkpoints in ${run.checkpointPath("")}`);
  }
  torch.dispose([trainSet, testSet]);
  model.dispose();
  optimizer.dispose();
  return 0;
}
