// A training run's folder. Everything is written atomically, in an order that lets an interrupted
// run resume from its last complete epoch:
//   run.json                      the configuration (a rerun must match it)
//   checkpoints/<tag>.safetensors model state dicts (PyTorch-readable), metrics in the metadata
//   checkpoints.json              index of checkpoints with their metrics, best epoch
//   state.safetensors             optimizer state + progress, written last at each epoch end
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { firstDifference, readJson, writeJson } from "../util/json.js";

export interface CheckpointInfo {
  /** File name under checkpoints/. */
  file: string;
  /** Completed epochs (0 = initialisation). */
  epoch: number;
  /** Optimizer steps taken when saved. */
  iteration: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  /** Adversarially trained runs: accuracy under the training attack on the run's robust test examples. */
  robustAccuracy?: number;
  lr: number;
  seconds: number;
  /** The file was deleted by the run's `keep` setting; the metrics stay. */
  removed?: boolean;
}

/** Which checkpoint files a run keeps: every one, the best and the last epoch's, the last's only, or the last N epochs' and the best. */
export type Keep = "all" | "best" | "last" | number;

export interface CheckpointIndex {
  checkpoints: CheckpointInfo[];
  /** File of the trained epoch (the initialisation until one is trained) with the best test accuracy. */
  best?: string;
}

/** The end-of-epoch checkpoints, in order (without the early-iteration ones). */
export const epochCheckpoints = (index: CheckpointIndex): CheckpointInfo[] =>
  index.checkpoints.filter((c) => c.file === RunDir.epochFile(c.epoch));

export class RunDir {
  constructor(readonly path: string) {}

  get configPath(): string { return join(this.path, "run.json"); }
  get indexPath(): string { return join(this.path, "checkpoints.json"); }
  get statePath(): string { return join(this.path, "state.safetensors"); }
  checkpointPath(file: string): string { return join(this.path, "checkpoints", file); }

  static epochFile(epoch: number): string { return `epoch-${String(epoch).padStart(4, "0")}.safetensors`; }
  static iterationFile(iteration: number): string { return `iter-${String(iteration).padStart(7, "0")}.safetensors`; }

  /**
   * Creates the folder, or checks that an existing run has the same configuration, or one that
   * `extends` accepts as continued by this one (its checkpoints stay valid: more epochs).
   */
  open<C extends object>(config: C, extendsRun?: (existing: C, next: C) => boolean): void {
    mkdirSync(join(this.path, "checkpoints"), { recursive: true });
    const existing = readJson<C>(this.configPath);
    if (existing === undefined) writeJson(this.configPath, config);
    else {
      const d = firstDifference(existing, config);
      if (d && extendsRun?.(existing, config)) writeJson(this.configPath, config);
      else if (d) {
        throw new Error(`${this.configPath}: ${d.path} is ${JSON.stringify(d.a)} here, ${JSON.stringify(d.b)} now; ` +
          "this run folder holds a run with another configuration: choose a new --out or delete the folder");
      }
    }
  }

  index(): CheckpointIndex {
    return readJson<CheckpointIndex>(this.indexPath) ?? { checkpoints: [] };
  }

  /** Adds (or replaces, on a resumed epoch) a checkpoint entry and updates the best epoch. */
  record(info: CheckpointInfo): CheckpointIndex {
    const idx = this.index();
    const checkpoints = idx.checkpoints.filter((c) => c.file !== info.file).concat(info)
      .sort((a, b) => a.iteration - b.iteration || a.epoch - b.epoch);
    // The initialisation is the best only until an epoch is trained: a model trained into worse
    // than chance (paper B's mislabeled sets can) reports its best trained epoch, not its init.
    const all = epochCheckpoints({ checkpoints });
    const epochs = all.length > 1 ? all.filter((c) => c.epoch > 0) : all;
    const best = epochs.reduce<CheckpointInfo | undefined>((b, c) => (b === undefined || c.testAccuracy > b.testAccuracy ? c : b), undefined);
    const next = { checkpoints, best: best?.file };
    writeJson(this.indexPath, next);
    return next;
  }

  /**
   * Deletes the checkpoint files `keep` does not keep (the last epoch's always stays: resuming and
   * continuing start from it) and marks them removed in the index. A pass interrupted between the
   * two is finished by the next one.
   */
  prune(keep: Keep): CheckpointIndex {
    const idx = this.index();
    if (keep === "all") return idx;
    const epochs = epochCheckpoints(idx);
    const kept = new Set([epochs.at(-1)?.file, ...(keep === "last" ? [] : [idx.best]), ...(typeof keep === "number" ? epochs.slice(-keep).map((c) => c.file) : [])]);
    const doomed = idx.checkpoints.filter((c) => !c.removed && !kept.has(c.file));
    if (doomed.length === 0) return idx;
    for (const c of doomed) rmSync(this.checkpointPath(c.file), { force: true });
    const next = { ...idx, checkpoints: idx.checkpoints.map((c) => (doomed.includes(c) ? { ...c, removed: true } : c)) };
    writeJson(this.indexPath, next);
    return next;
  }

  hasState(): boolean {
    return existsSync(this.statePath);
  }
}
