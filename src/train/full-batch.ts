// Full-batch training of a binary margin model f (one output per example) with paper B's
// exponential loss mean_n exp(−y_n f(x_n)), SGD with momentum and ReduceLROnPlateau stepped on the
// loss every iteration (paper B's artificial.py). Tens of thousands of tiny steps: nothing is
// written per step. The loss/accuracy curve is kept every `curveEvery` iterations, and the state
// (weights, momentum, schedule, curve) is saved every `saveSeconds` of work, so that a killed run
// resumes from its last save and ends with the weights an uninterrupted one would have.
import { existsSync } from "node:fs";
import type { Module } from "../nn/module.js";
import { Schedule } from "../optim/schedule.js";
import { SGD } from "../optim/sgd.js";
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";
import { Progress } from "../util/progress.js";
import { TrainingDiverged } from "./trainer.js";

/** Paper B's loss: mean exp(−y·f) for ±1 labels y and margins f, both [N]. */
export const exponentialLoss = (f: Tensor, y: Tensor): Tensor => torch.tidy(() => f.mul(y).neg().exp().mean());

export interface FullBatchOptions {
  iterations: number;
  lr: number;
  momentum: number;
  /** Where the resumable state lives while training; removed once training ends. */
  statePath: string;
  /** Keep (iteration, loss, accuracy) every N iterations (and the last). */
  curveEvery: number;
  /** Save the state after this many seconds of work since the last save (default 60). */
  saveSeconds?: number;
  /** Progress bar label on stderr (none when undefined). */
  progress?: string;
}

export interface CurvePoint {
  iteration: number;
  loss: number;
  accuracy: number;
  lr: number;
}

/** Sign agreement of margins with ±1 labels, as a fraction. */
export const signAccuracy = (f: Tensor, y: Tensor): number => torch.tidy(() => f.mul(y).gt(0).to("float64").mean().item());

/**
 * Trains `model` in place on all of (x, y) (y: ±1 float32) for `iterations` steps and returns the
 * curve. Resumes from `statePath` when it holds an earlier save of the same training.
 */
export function trainFullBatch(model: Module, x: Tensor, y: Tensor, o: FullBatchOptions): CurvePoint[] {
  const params = model.parameters();
  const optimizer = new SGD(params, { lr: o.lr, momentum: o.momentum });
  const schedule = new Schedule("plateau", o.lr);
  let curve: CurvePoint[] = [];
  let start = 0;
  try {
    if (existsSync(o.statePath)) {
      const { tensors, metadata } = torch.loadSafetensors(o.statePath);
      try {
        const weights = new Map([...tensors].filter(([k]) => k.startsWith("model.")).map(([k, t]) => [k.slice(6), t]));
        model.loadStateDict(weights);
        start = Number(metadata.iteration);
        optimizer.loadStateDict(new Map([...tensors].filter(([k]) => k.startsWith("optim.")).map(([k, t]) => [k.slice(6), t])), start);
        schedule.loadState(JSON.parse(metadata.schedule!));
        curve = JSON.parse(metadata.curve!) as CurvePoint[];
      } finally {
        torch.dispose([...tensors.values()]);
      }
    }
    const save = (iteration: number) => {
      const state = optimizer.stateDict();
      const weights = model.stateDict();
      try {
        torch.saveSafetensors(o.statePath, new Map([...[...weights].map(([k, t]) => [`model.${k}`, t] as const), ...[...state].map(([k, t]) => [`optim.${k}`, t] as const)]),
          { iteration: String(iteration), schedule: JSON.stringify(schedule.state()), curve: JSON.stringify(curve) });
      } finally {
        torch.dispose([...state.values()]);
      }
    };
    const progress = o.progress ? new Progress(o.progress, o.iterations - start, "step") : undefined;
    let lastSave = performance.now();
    model.train();
    for (let it = start + 1; it <= o.iterations; it++) {
      optimizer.lr = schedule.lr(0);
      const { loss, accuracy } = torch.tidy(() => {
        optimizer.zeroGrad();
        const f = model.forward(x);
        const l = exponentialLoss(f, y);
        const value = l.item();
        if (!Number.isFinite(value)) throw new TrainingDiverged(`full-batch training diverged: the loss is ${value} at iteration ${it} (lr ${optimizer.lr})`);
        l.backward();
        optimizer.step();
        // The accuracy of the iterate the loss was measured at, only where the curve keeps it.
        return { loss: value, accuracy: it % o.curveEvery === 0 || it === o.iterations ? signAccuracy(f.detach(), y) : Number.NaN };
      });
      schedule.observe(loss);
      if (!Number.isNaN(accuracy)) curve.push({ iteration: it, loss, accuracy, lr: optimizer.lr });
      progress?.tick(1, { loss });
      torch.checkInterrupt();
      if (performance.now() - lastSave > (o.saveSeconds ?? 60) * 1000 && it < o.iterations) {
        save(it);
        lastSave = performance.now();
      }
    }
    return curve;
  } finally {
    optimizer.dispose();
  }
}
