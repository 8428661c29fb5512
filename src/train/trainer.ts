// Checkpointed training: epoch 0 (initialisation) and every epoch saved with train/test metrics,
// optional checkpoints every N iterations early in training, exact resume after an interruption.
import type { Module } from "../nn/module.js";
import type { Optimizer } from "../optim/optimizer.js";
import type { Schedule } from "../optim/schedule.js";
import { type CheckpointIndex, type CheckpointInfo, RunDir } from "../store/run.js";
import * as F from "../torch/functional.js";
import { noGrad } from "../torch/autograd.js";
import { Generator, manualSeed } from "../torch/random.js";
import { loadSafetensors, saveSafetensors } from "../torch/safetensors.js";
import { dispose, tidy } from "../torch/scope.js";
import type { Tensor } from "../torch/tensor.js";
import { Progress } from "../util/progress.js";

export interface Batch {
  x: Tensor;
  y: Tensor;
}

/** Where training data come from. Yielded batches belong to the caller, who disposes them. */
export interface TrainSource {
  trainSize: number;
  /** Shuffled (and possibly augmented) batches of a 0-based epoch, drawn from `generator`. */
  trainBatches(epoch: number, generator: Generator): Iterable<Batch>;
  /** The training set in order, unaugmented (for the epoch-0 metrics). */
  trainEval(): Iterable<Batch>;
  testEval(): Iterable<Batch>;
}

export interface TrainOptions {
  epochs: number;
  seed: number;
  optimizer: Optimizer;
  schedule: Schedule;
  /** Save a checkpoint every N optimizer steps during the first `earlyEpochs` epochs (0 = never). */
  checkpointEveryIters?: number;
  earlyEpochs?: number;
  /** Progress bar on stderr (default true). */
  progress?: boolean;
}

export class TrainingDiverged extends Error {}

/** Per-epoch seeds: a resumed epoch draws exactly what the uninterrupted one drew. */
const epochSeed = (seed: number, epoch: number, salt: number) => seed * 1_000_003 + epoch * 7 + salt;

export function evaluate(model: Module, batches: Iterable<Batch>): { loss: number; accuracy: number } {
  const wasTraining = model.training;
  model.eval();
  let loss = 0;
  let correct = 0;
  let n = 0;
  try {
    for (const b of batches) {
      try {
        tidy(() => noGrad(() => {
          const logits = model.forward(b.x);
          loss += F.crossEntropy(logits, b.y, { reduction: "sum" }).item();
          correct += logits.argmax(1).eq(b.y).sum().item();
          n += b.y.shape[0]!;
        }));
      } finally {
        dispose(b);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return { loss: loss / n, accuracy: correct / n };
}

/** Trains `model` into `run`, resuming from its last complete epoch if it has one. */
export function train(model: Module, source: TrainSource, run: RunDir, o: TrainOptions): CheckpointIndex {
  const { optimizer, schedule } = o;
  let index = run.index();
  let start = 0;
  let seconds = 0;
  const save = (file: string, info: Omit<CheckpointInfo, "file">) => {
    model.save(run.checkpointPath(file), { epoch: String(info.epoch), iteration: String(info.iteration), metrics: JSON.stringify(info) });
    index = run.record({ file, ...info });
  };
  const saveState = (epoch: number) => {
    const tensors = optimizer.stateDict();
    try {
      saveSafetensors(run.statePath, tensors, { epoch: String(epoch), steps: String(optimizer.steps), seconds: String(seconds), schedule: JSON.stringify(schedule.state()) });
    } finally {
      dispose([...tensors.values()]);
    }
  };

  if (run.hasState()) {
    const { tensors, metadata } = loadSafetensors(run.statePath);
    try {
      start = Number(metadata.epoch);
      seconds = Number(metadata.seconds);
      optimizer.loadStateDict(tensors, Number(metadata.steps));
      schedule.loadState(JSON.parse(metadata.schedule!));
    } finally {
      dispose([...tensors.values()]);
    }
    model.load(run.checkpointPath(RunDir.epochFile(start)));
  } else {
    const tr = evaluate(model, source.trainEval());
    const te = evaluate(model, source.testEval());
    save(RunDir.epochFile(0), { epoch: 0, iteration: 0, trainLoss: tr.loss, trainAccuracy: tr.accuracy, testLoss: te.loss, testAccuracy: te.accuracy, lr: schedule.lr(0), seconds: 0 });
    saveState(0);
  }

  const progress = o.progress === false ? undefined : new Progress("train", (o.epochs - start) * source.trainSize, "img");
  for (let epoch = start + 1; epoch <= o.epochs; epoch++) {
    optimizer.lr = schedule.lr(epoch - 1);
    manualSeed(epochSeed(o.seed, epoch, 0));
    const generator = new Generator(epochSeed(o.seed, epoch, 1));
    const began = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    model.train();
    try {
      for (const b of source.trainBatches(epoch - 1, generator)) {
        try {
          tidy(() => {
            optimizer.zeroGrad();
            const logits = model.forward(b.x);
            const loss = F.crossEntropy(logits, b.y);
            const value = loss.item();
            if (!Number.isFinite(value)) {
              throw new TrainingDiverged(`training diverged: the loss is ${value} at epoch ${epoch}, step ${optimizer.steps + 1} (lr ${optimizer.lr}); ` +
                `the last complete checkpoint is epoch ${epoch - 1}. Lower --lr and rerun with a new --out.`);
            }
            loss.backward();
            optimizer.step();
            const n = b.y.shape[0]!;
            lossSum += value * n;
            correct += noGrad(() => logits.argmax(1).eq(b.y).sum().item());
            seen += n;
          });
        } finally {
          dispose(b);
        }
        progress?.tick(b.y.shape[0]!, { epoch, loss: lossSum / seen, acc: correct / seen });
        if (o.checkpointEveryIters && epoch <= (o.earlyEpochs ?? 1) && optimizer.steps % o.checkpointEveryIters === 0) {
          const te = evaluate(model, source.testEval());
          save(RunDir.iterationFile(optimizer.steps), { epoch: epoch - 1, iteration: optimizer.steps, trainLoss: lossSum / seen, trainAccuracy: correct / seen, testLoss: te.loss, testAccuracy: te.accuracy, lr: optimizer.lr, seconds: seconds + (performance.now() - began) / 1000 });
        }
      }
    } finally {
      generator.dispose();
    }
    seconds += (performance.now() - began) / 1000;
    const te = evaluate(model, source.testEval());
    save(RunDir.epochFile(epoch), { epoch, iteration: optimizer.steps, trainLoss: lossSum / seen, trainAccuracy: correct / seen, testLoss: te.loss, testAccuracy: te.accuracy, lr: optimizer.lr, seconds });
    schedule.observe(lossSum / seen);
    saveState(epoch);
  }
  return index;
}
