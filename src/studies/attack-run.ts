// Attacking every chosen checkpoint of a run. Results per checkpoint go to
// RUN/attacks/<attack key>/<checkpoint>.{safetensors,json}; a checkpoint whose JSON exists is
// skipped, so an interrupted attack resumes.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Attack } from "../attacks/types.js";
import { AttackModel } from "../attacks/model.js";
import { type CriterionLike, leastLikelyTargets, nextClassTargets, randomTargets, targeted } from "../attacks/criteria.js";
import type { Split } from "../data/dataset.js";
import { readJson, writeJson } from "../store/json.js";
import type { CheckpointInfo, RunDir } from "../store/run.js";
import * as torch from "../torch/index.js";
import { Progress } from "../util/progress.js";
import type { RunConfig } from "../train/run.js";
import { loadCheckpointModel, loadExamples } from "./run-model.js";

export type TargetMode = "none" | "random" | "least-likely" | "next";

export interface AttackRunSpec {
  attack: Attack;
  /** Identifies the attack's configuration (folder name); same key = same results. */
  key: string;
  epsilons: (number | null)[];
  examples: number;
  split: Split;
  targeted: TargetMode;
  seed: number;
  batchSize: number;
  /** Iterations per example (for the image-steps/s figure). */
  steps: number;
  dataDir?: string;
}

export interface CheckpointAttackSummary {
  checkpoint: string;
  epoch: number;
  iteration: number;
  examples: number;
  cleanAccuracy: number;
  perEpsilon: { epsilon: number | null; successRate: number; successOnCorrectRate: number; meanL2: number; meanLinf: number }[];
}

function criterionFor(mode: TargetMode, model: AttackModel, x: torch.Tensor, y: torch.Tensor, classes: number, seed: number): CriterionLike {
  switch (mode) {
    case "none": return y;
    case "random": return randomTargets(y, classes, seed);
    case "next": return nextClassTargets(y, classes);
    case "least-likely": return leastLikelyTargets(model, x, y);
  }
}

function summarise(ckpt: CheckpointInfo, t: Map<string, torch.Tensor>, epsilons: (number | null)[]): CheckpointAttackSummary {
  const mean = (x: torch.Tensor) => x.to("float64").mean().item();
  const success = t.get("success")!;
  const onCorrect = t.get("success_on_correct")!;
  return {
    checkpoint: ckpt.file,
    epoch: ckpt.epoch,
    iteration: ckpt.iteration,
    examples: success.shape[0]!,
    cleanAccuracy: mean(t.get("clean_correct")!),
    perEpsilon: epsilons.map((epsilon, k) => ({
      epsilon,
      successRate: mean(success.select(1, k)),
      successOnCorrectRate: mean(onCorrect.select(1, k)),
      meanL2: mean(t.get("norm_l2")!.select(1, k)),
      meanLinf: mean(t.get("norm_linf")!.select(1, k)),
    })),
  };
}

export function attackRun(run: RunDir, config: RunConfig, checkpoints: CheckpointInfo[], spec: AttackRunSpec): CheckpointAttackSummary[] {
  const dir = join(run.path, "attacks", spec.key);
  mkdirSync(dir, { recursive: true });
  writeJson(join(dir, "attack.json"), { key: spec.key, attack: spec.attack.name, epsilons: spec.epsilons, examples: spec.examples, split: spec.split, targeted: spec.targeted, seed: spec.seed });
  const data = loadExamples(config, spec.split, spec.examples, spec.dataDir);
  const n = data.labels.shape[0]!;
  const todo = checkpoints.filter((c) => !existsSync(join(dir, c.file.replace(".safetensors", ".json"))));
  const progress = new Progress("attack", todo.length * n * spec.steps, "img·step");
  const summaries: CheckpointAttackSummary[] = [];
  try {
    for (const ckpt of checkpoints) {
      const jsonPath = join(dir, ckpt.file.replace(".safetensors", ".json"));
      if (todo.includes(ckpt)) {
        const module = loadCheckpointModel(run, config, ckpt);
        const model = new AttackModel(module);
        const parts: Record<string, torch.Tensor[]> = {};
        let successes = 0;
        try {
          for (let start = 0; start < n; start += spec.batchSize) {
            const size = Math.min(spec.batchSize, n - start);
            torch.tidy(() => {
              const x = data.images.narrow(0, start, size);
              const y = data.labels.narrow(0, start, size);
              const criterion = criterionFor(spec.targeted, model, x, y, data.classes, spec.seed + start);
              const r = spec.attack.run(model, x, criterion, { epsilons: spec.epsilons, seed: spec.seed + start });
              const add = (k: string, t: torch.Tensor) => (parts[k] ??= []).push(torch.keep(t));
              spec.epsilons.forEach((_, k) => add(`delta.${k}`, r.clipped[k]!.sub(x)));
              add("success", r.success.T);
              add("success_on_correct", r.successOnCorrect.T);
              add("clean_correct", r.cleanCorrect);
              add("labels", y.clone());
              for (const [name, t] of Object.entries(r.norms)) add(`norm_${name}`, (t as torch.Tensor).T);
              if (criterion !== y) add("targets", (criterion as ReturnType<typeof targeted>).targets.clone());
              successes += r.success.select(0, spec.epsilons.length - 1).sum().item();
            });
            progress.tick(size * spec.steps, { ckpt: ckpt.file.replace(".safetensors", ""), success: successes / Math.min(start + size, n) });
          }
          const tensors = torch.tidy(() => new Map(Object.entries(parts).map(([k, ts]) => [k, torch.cat(ts, 0)])));
          try {
            torch.saveSafetensors(join(dir, ckpt.file), tensors, { checkpoint: ckpt.file, attack: spec.attack.name });
            const summary = torch.tidy(() => summarise(ckpt, tensors, spec.epsilons));
            writeJson(jsonPath, summary);
          } finally {
            torch.dispose([...tensors.values()]);
          }
        } finally {
          torch.dispose(Object.values(parts));
          module.dispose();
        }
      }
      summaries.push(readJson<CheckpointAttackSummary>(jsonPath)!);
    }
  } finally {
    torch.dispose(data);
  }
  return summaries;
}
