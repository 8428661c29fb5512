// Checkpointed training: epoch 0 (initialisation) and every epoch saved with train/test metrics,
// optional checkpoints every N iterations early in training, exact resume after an interruption.
import { Misclassification } from "../attacks/criteria.js";
import type { Attack } from "../attacks/types.js";
import type { Batch, DataLoader } from "../data/loader.js";
import { AttackModel } from "../nn/attack-model.js";
import type { Module } from "../nn/module.js";
import type { Optimizer } from "../optim/optimizer.js";
import type { Schedule } from "../optim/schedule.js";
import { type CheckpointIndex, type CheckpointInfo, type Keep, RunDir } from "../store/run.js";
import * as F from "../torch/functional.js";
import { noGrad } from "../torch/autograd.js";
import { manualSeed } from "../torch/random.js";
import type { Precision } from "../torch/dtype.js";
import { autocast, checkInterrupt } from "../torch/runtime.js";
import { loadSafetensors, saveSafetensors } from "../torch/safetensors.js";
import { dispose, tidy } from "../torch/scope.js";
import type { Tensor } from "../torch/tensor.js";
import { Progress } from "../util/progress.js";

/** The loaders a run reads. Their batches belong to the trainer, which disposes them. */
export interface TrainData {
  /** Shuffled (and possibly augmented) training batches; the loader fixes each epoch's order. */
  train: DataLoader;
  /** The training set in order, unaugmented (for the epoch-0 metrics). */
  trainEval: DataLoader;
  test: DataLoader;
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
  /** Adversarial training: every training batch is replaced by the attack's adversarial inputs. */
  adversarial?: AdversarialTraining;
  /** Which checkpoint files stay after each epoch (default all). */
  keep?: Keep;
  /** Forward passes (training, evaluation, the attack of adversarial training) under autocast; default fp32. */
  precision?: Precision;
}

export interface AdversarialTraining {
  attack: Attack;
  epsilon: number;
  /** The test examples whose robust accuracy under the attack is recorded at every epoch. */
  robust: DataLoader;
}

export class TrainingDiverged extends Error {}

/** Per-epoch seed of the global generator (dropout): a resumed epoch draws what the uninterrupted one drew. */
const epochSeed = (seed: number, epoch: number) => seed * 1_000_003 + epoch;
/** The attack's seed for a training batch: a resumed epoch attacks as the uninterrupted one did. */
const stepSeed = (seed: number, epoch: number, batch: number) => (epochSeed(seed, epoch) * 65_537 + batch) % Number.MAX_SAFE_INTEGER;

/**
 * The batch's adversarial inputs against the model's current weights (Madry et al.'s inner
 * maximisation): eval mode, input gradients only (AttackModel), clipped to the ε-ball and [0, 1].
 */
export function adversarialBatch(model: AttackModel, adv: Pick<AdversarialTraining, "attack" | "epsilon">, x: Tensor, y: Tensor, seed: number): Tensor {
  return adv.attack.adversarial(model, x, new Misclassification(y), adv.epsilon, seed);
}

/** Share of the batches' examples still classified correctly after the attack (batch i seeded with seed + examples before it). */
export function robustAccuracy(model: AttackModel, adv: AdversarialTraining, seed: number): number {
  let correct = 0;
  let n = 0;
  for (const b of adv.robust.epoch(0)) {
    try {
      tidy(() => {
        const xa = adversarialBatch(model, adv, b.x, b.y, seed + n);
        correct += model.predict(xa).eq(b.y).sum().item();
      });
      n += b.y.shape[0]!;
    } finally {
      dispose(b);
    }
  }
  return correct / n;
}

export function evaluate(model: Module, batches: Iterable<Batch>, precision: Precision = "fp32"): { loss: number; accuracy: number } {
  const wasTraining = model.training;
  model.eval();
  let loss = 0;
  let correct = 0;
  let n = 0;
  try {
    for (const b of batches) {
      try {
        tidy(() => noGrad(() => {
          const logits = autocast(precision, b.x, () => model.forward(b.x));
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
export function train(model: Module, data: TrainData, run: RunDir, o: TrainOptions): CheckpointIndex {
  const { optimizer, schedule, adversarial } = o;
  const precision = o.precision ?? "fp32";
  const attackModel = adversarial ? new AttackModel(model, { precision }) : undefined;
  const robust = () => (adversarial ? { robustAccuracy: robustAccuracy(attackModel!, adversarial, o.seed) } : {});
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
    const tr = evaluate(model, data.trainEval.epoch(0), precision);
    const te = evaluate(model, data.test.epoch(0), precision);
    save(RunDir.epochFile(0), { epoch: 0, iteration: 0, trainLoss: tr.loss, trainAccuracy: tr.accuracy, testLoss: te.loss, testAccuracy: te.accuracy, ...robust(), lr: schedule.lr(0), seconds: 0 });
    saveState(0);
  }

  const progress = o.progress === false ? undefined : new Progress("train", (o.epochs - start) * data.train.size, "img");
  for (let epoch = start + 1; epoch <= o.epochs; epoch++) {
    optimizer.lr = schedule.lr(epoch - 1);
    manualSeed(epochSeed(o.seed, epoch));
    const began = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    model.train();
    let batch = 0;
    for (const b of data.train.epoch(epoch - 1)) {
      try {
        tidy(() => {
          const x = adversarial ? adversarialBatch(attackModel!, adversarial, b.x, b.y, stepSeed(o.seed, epoch, batch)) : b.x;
          optimizer.zeroGrad();
          const logits = autocast(precision, x, () => model.forward(x));
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
      batch++;
      progress?.tick(b.y.shape[0]!, { epoch, loss: lossSum / seen, acc: correct / seen });
      // A safe point: after Ctrl-C the run ends here and resumes from its last complete epoch.
      checkInterrupt();
      if (o.checkpointEveryIters && epoch <= (o.earlyEpochs ?? 1) && optimizer.steps % o.checkpointEveryIters === 0) {
        const te = evaluate(model, data.test.epoch(0), precision);
        save(RunDir.iterationFile(optimizer.steps), { epoch: epoch - 1, iteration: optimizer.steps, trainLoss: lossSum / seen, trainAccuracy: correct / seen, testLoss: te.loss, testAccuracy: te.accuracy, lr: optimizer.lr, seconds: seconds + (performance.now() - began) / 1000 });
      }
    }
    seconds += (performance.now() - began) / 1000;
    const te = evaluate(model, data.test.epoch(0), precision);
    save(RunDir.epochFile(epoch), { epoch, iteration: optimizer.steps, trainLoss: lossSum / seen, trainAccuracy: correct / seen, testLoss: te.loss, testAccuracy: te.accuracy, ...robust(), lr: optimizer.lr, seconds });
    schedule.observe(lossSum / seen);
    saveState(epoch);
    index = run.prune(o.keep ?? "all");
  }
  return index;
}
