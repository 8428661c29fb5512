// `advdyn train`: one model on one dataset into a run folder, resumable.
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { NAMED_DATASETS, type DatasetRef } from "../data/index.js";
import { describeModel, modelNames } from "../models/index.js";
import { SCHEDULES } from "../optim/schedule.js";
import { type Keep, RunDir } from "../store/run.js";
import { optimDefaults } from "../train/defaults.js";
import { attackNames } from "../attacks/registry.js";
import { NORMS } from "../attacks/norms.js";
import { type RunSettings, checkKeep, trainRun, trainingAttack } from "../train/run.js";
import { addSchemaOptions, deviceOption, integer, number, precisionOption, schemaValues } from "./options.js";
import { peek } from "./peek.js";
import { table } from "./table.js";
import * as torch from "../torch/index.js";

/** A dataset name, or a dataset folder (one holding dataset.json). */
function datasetArg(value: string): string {
  if ((NAMED_DATASETS as readonly string[]).includes(value) || existsSync(join(value, "dataset.json"))) return value;
  throw new InvalidArgumentError(`expected one of ${NAMED_DATASETS.join(", ")}, or a dataset folder holding dataset.json; got '${value}'`);
}

/** The dataset as run.json records it: a folder's path relative to the run folder. */
const datasetRef = (value: string, out: string): DatasetRef =>
  (NAMED_DATASETS as readonly string[]).includes(value) ? { name: value as DatasetRef["name"] } : { name: "folder", options: { folder: relative(out, resolve(value)) } };

function keepArg(value: string): Keep {
  try {
    return checkKeep(/^\d+$/.test(value) ? Number(value) : (value as Keep));
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message.replace(/^keep: /, ""));
  }
}

export function trainCommand(argv: readonly string[]): Command {
  const cmd = new Command("train")
    .description("Train one model on one dataset into a run folder: checkpoints from initialisation on, train/test metrics, resumable after an interruption. " +
      "Model options go on the same command line (--model NAME --help lists them).")
    .addOption(new Option("--model <name>", "the model").choices(modelNames()).makeOptionMandatory())
    .requiredOption("--out <run>", "the run folder")
    .option("--dataset <name|dir>", `${NAMED_DATASETS.join(" | ")}, or a dataset folder (holding dataset.json)`, datasetArg, "fourier-classes")
    .option("--data-dir <dir>", "where real datasets live (default ~/.advdyn/data; fetch with advdyn data get)")
    .option("--epochs <n>", "epochs", integer(1), 40)
    .option("--batch-size <n>", "batch size", integer(1), 128)
    .option("--seed <n>", "seed of the initial weights, the data order and augmentation", integer(0), 0)
    .option("--lr <x>", "learning rate (default: the model's paper setting)", number(0, true))
    .addOption(new Option("--optimizer <name>", "optimizer (default: the model's paper setting)").choices(["sgd", "adam"]))
    .option("--momentum <m>", "momentum (default: the model's paper setting)", number(0))
    .option("--weight-decay <w>", "weight decay (default: the model's paper setting)", number(0))
    .option("--nesterov", "Nesterov momentum (default: the model's paper setting)")
    .addOption(new Option("--schedule <name>", "learning-rate schedule (default: the model's paper setting)").choices(SCHEDULES))
    .option("--augment", "random crop (pad 4) and horizontal flip")
    .option("--checkpoint-every-iters <n>", "extra checkpoints every N steps in the first --early-epochs epochs (0: none)", integer(0), 0)
    .option("--early-epochs <e>", "epochs with the extra checkpoints", integer(0), 1)
    .option("--train-examples <n>", "use the first N training examples", integer(1))
    .option("--test-examples <n>", "use the first N test examples", integer(1))
    .addOption(new Option("--adversarial <attack>", "adversarial training (Madry et al.): each batch replaced by this attack's adversarial inputs").choices(attackNames()))
    .addOption(new Option("--adv-norm <norm>", "the training attack's norm").choices(NORMS).default("linf"))
    .option("--adv-eps <eps>", "the training attack's ε", number(0, true), 8 / 255)
    .option("--adv-steps <n>", "the training attack's steps (default 10)", integer(1))
    .option("--adv-stepsize <x>", "the training attack's step in input units (default ε/4)", number(0, true))
    .option("--adv-examples <n>", "robust accuracy at every epoch on the first N test examples", integer(1), 500)
    .option("--keep <which>", "checkpoint files kept: all, best (and the last epoch's, which resuming needs), last, or N (the last N epochs' and the best); the metrics of every checkpoint stay", keepArg, "all")
    .addOption(precisionOption("forward passes (training, evaluation, adversarial training's attack); recorded in run.json, and attacks on the run use it", "fp32"))
    .addOption(deviceOption())
    .option("--json", "print the checkpoint index as JSON");
  // The model's own options, once the command line names the model.
  const model = peek(argv, "--model");
  const modelKeys = model !== undefined && modelNames().includes(model as never) ? addSchemaOptions(cmd, describeModel(model).options, `model ${model}`) : [];
  cmd.action((o) => {
    torch.watchInterrupts();
    const modelOptions = schemaValues(o, modelKeys);
    const d = optimDefaults(o.model, modelOptions);
    const settings: RunSettings = {
      model: { name: o.model, options: modelOptions },
      dataset: datasetRef(o.dataset, o.out),
      trainExamples: o.trainExamples, testExamples: o.testExamples,
      epochs: o.epochs, batchSize: o.batchSize, seed: o.seed, augment: o.augment ?? false,
      optim: {
        optimizer: o.optimizer ?? d.optimizer, lr: o.lr ?? d.lr, momentum: o.momentum ?? d.momentum,
        weightDecay: o.weightDecay ?? d.weightDecay, nesterov: o.nesterov ?? d.nesterov, schedule: o.schedule ?? d.schedule,
      },
      checkpointEveryIters: o.checkpointEveryIters, earlyEpochs: o.earlyEpochs, keep: o.keep, precision: o.precision,
      ...(o.adversarial ? {
        adversarial: {
          attack: trainingAttack(o.adversarial, o.advNorm, o.advEps, { ...(o.advSteps ? { steps: o.advSteps } : {}), ...(o.advStepsize ? { absStepsize: o.advStepsize } : {}) }),
          examples: o.advExamples,
        },
      } : {}),
    };
    const { index } = trainRun(o.out, settings, {
      dataDir: o.dataDir, device: o.device,
      onStart: ({ config: c, model: m, resumed }) => {
        if (o.json) return;
        const adv = c.adversarial ? `, adversarial ${c.adversarial.attack.attack} ${c.adversarial.attack.norm} ε ${+(c.adversarial.attack.eps as number).toPrecision(4)}` : "";
        console.log(`${o.model} (${m.parameterCount().toLocaleString("en-US")} parameters) on ${o.dataset}: ${c.dataset.trainExamples} train / ${c.dataset.testExamples} test, ` +
          `${c.optim.optimizer} lr ${c.optim.lr} (${c.optim.schedule})${adv}, ${c.epochs} epochs, into ${o.out}${resumed ? " (resuming)" : ""}`);
      },
    });
    if (o.json) {
      console.log(JSON.stringify(index, null, 2));
      return;
    }
    const epochs = index.checkpoints.filter((c) => c.file === RunDir.epochFile(c.epoch));
    const robust = epochs.some((c) => c.robustAccuracy !== undefined);
    console.log(table(["epoch", "iter", "train loss", "train acc", "test loss", "test acc", ...(robust ? ["robust acc"] : [])],
      epochs.map((c) => [c.epoch, c.iteration, c.trainLoss.toFixed(4), c.trainAccuracy.toFixed(4), c.testLoss.toFixed(4), c.testAccuracy.toFixed(4),
        ...(robust ? [c.robustAccuracy?.toFixed(4) ?? ""] : [])])));
    console.log(`best: ${index.best}; checkpoints in ${new RunDir(o.out).checkpointPath("")}`);
  });
  return cmd;
}
