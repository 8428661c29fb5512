// Paper B's artificial experiment (Kumano et al. 2024, §5.1 and its code's artificial.py) as two
// kinds of job. `theory-net` trains paper B's one-hidden-layer network full-batch with the
// exponential loss on one of the two sets a cell reads: f on the N nearly orthogonal samples D with
// ±1 labels, or h on N^adv raw noise inputs of the same law labelled with their attack targets.
// Neither depends on the norm or the budget, so the cells of a noise law share them.
// `perturbation-theory` is one cell: it attacks each noise input toward its target against f
// (paper B's targeted PGD, best iterate) and trains a fresh g, from h's initial weights, on the
// perturbed noise. Rows: the three accuracies on D, the attack's fool rate, the agreement of f with
// the linear boundary f^bdy of the SVM dual, and the sides of the near-orthogonality condition.
// Files: <id>/net.safetensors for a network (weights, loss curve in the metadata); <id>/g.safetensors
// and <id>/maps.safetensors for a cell (the decision maps of f, g, h on the plane of u₁, u₂ and D
// projected onto it).
//
// Each training saves its state every minute of work and each finished network is a file, so a
// killed job resumes where it was; the attack (no random start) is recomputed, identically.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { boundaryMargin, orthogonality, svmDual } from "../../analysis/boundary.js";
import { attackBatches } from "../../attacks/batch.js";
import { nextClassTargets } from "../../attacks/criteria.js";
import { createAttack } from "../../attacks/registry.js";
import { deriveSeed, orthogonal, signedLabels } from "../../data/index.js";
import { createModel } from "../../models/index.js";
import { AttackModel } from "../../nn/attack-model.js";
import type { Module } from "../../nn/module.js";
import * as torch from "../../torch/index.js";
import type { Tensor } from "../../torch/index.js";
import { type CurvePoint, signAccuracy, trainFullBatch } from "../../train/full-batch.js";
import { OptionError } from "../../util/schema.js";
import type { Dependency, JobContext, JobKind } from "../graph.js";
import { Rows } from "../rows.js";

export const THEORY_NORMS = ["l0", "l2", "linf"] as const;
export const THEORY_NOISES = ["uniform", "gaussian"] as const;

export interface TheoryInputs {
  noise: (typeof THEORY_NOISES)[number];
  norm: (typeof THEORY_NORMS)[number];
  /** Dimension, natural samples, noise samples, hidden units. */
  d: number;
  n: number;
  nAdv: number;
  width: number;
  /** L2 and L∞: the budget ε; L0: the share d_δ/d of coordinates changed. */
  eps: number;
  /** L2 and L∞ attack steps (L0 takes one step per coordinate). */
  steps: number;
  /** Full-batch iterations of each training, with paper B's SGD (lr, momentum) and ReduceLROnPlateau. */
  iterations: number;
  lr: number;
  momentum: number;
  seed: number;
  /** Side of the decision-map grid on [−3.4, 3.4]² (0: no maps). */
  map: number;
}

/** A network of a cell: f on D (`natural`, n = N) or h on the raw noise (`noise`, n = N^adv). */
export interface TheoryNetInputs extends Pick<TheoryInputs, "noise" | "d" | "width" | "iterations" | "lr" | "momentum" | "seed"> {
  set: "natural" | "noise";
  n: number;
}

/** The leaky slope of paper B's network (PyTorch's default), which the theorem's constants use. */
const GAMMA = 0.01;
const MAP_EXTENT = 3.4;
const FRESH_POINTS = 1000;
const NETWORKS = ["f", "g", "h"] as const;
const NET_FILE = "net.safetensors";

/** Coordinates an L0 attack changes for a share of d. */
export const l0Coordinates = (share: number, d: number): number => Math.max(1, Math.round(share * d));

/** The inputs of the f (`natural`) or h (`noise`) job a cell depends on. */
export const theoryNetInputs = (i: TheoryInputs, set: TheoryNetInputs["set"]): TheoryNetInputs => ({
  set, noise: i.noise, d: i.d, n: set === "natural" ? i.n : i.nAdv, width: i.width, iterations: i.iterations, lr: i.lr, momentum: i.momentum, seed: i.seed,
});

const positiveInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1;

function checkShared(spec: { id: string; inputs: unknown }, keys: readonly string[]): void {
  const i = spec.inputs as Partial<TheoryInputs>;
  if (!THEORY_NOISES.includes(i.noise!)) throw new OptionError(`${spec.id}: inputs.noise is ${JSON.stringify(i.noise)}; allowed: ${THEORY_NOISES.join(", ")}`);
  for (const k of keys) {
    if (!positiveInt((i as Record<string, unknown>)[k])) throw new OptionError(`${spec.id}: inputs.${k} must be an integer ≥ 1, got ${JSON.stringify((i as Record<string, unknown>)[k])}`);
  }
  if (i.width! % 2 !== 0) throw new OptionError(`${spec.id}: inputs.width must be even (half the units have output weight +1/√m, half −1/√m), got ${i.width}`);
  if (!(typeof i.lr === "number" && i.lr > 0 && Number.isFinite(i.lr))) throw new OptionError(`${spec.id}: inputs.lr must be a number > 0, got ${JSON.stringify(i.lr)}`);
  if (!(typeof i.momentum === "number" && i.momentum >= 0 && i.momentum < 1)) throw new OptionError(`${spec.id}: inputs.momentum must be in [0, 1), got ${JSON.stringify(i.momentum)}`);
  if (!Number.isSafeInteger(i.seed) || i.seed! < 0) throw new OptionError(`${spec.id}: inputs.seed must be an integer ≥ 0`);
}

/**
 * A network's training set: D with its ±1 labels, or the noise inputs with their ±1 attack targets
 * (the other class, as random as the noise's labels). The cell draws the same noise from the same seed.
 */
function theorySet(i: TheoryNetInputs): { x: Tensor; y: Tensor; labels: Tensor } {
  const natural = i.set === "natural";
  const data = orthogonal("train", { n: i.n, d: i.d, noise: i.noise, seed: natural ? i.seed : deriveSeed(i.seed, "noise") });
  const y = torch.tidy(() => signedLabels(natural ? data.labels : nextClassTargets(data.labels, 2).targets));
  return { x: data.images, y, labels: data.labels };
}

/** f's initial weights, and those g and h share (only their data differ). */
const initSeed = (seed: number, set: TheoryNetInputs["set"]) => deriveSeed(seed, set === "natural" ? "f" : "fresh");

const network = (i: Pick<TheoryInputs, "d" | "width">, seed: number) => createModel("onehidden", { inputShape: [i.d], width: i.width, seed });

/** Loads a finished network's weights; returns its loss curve (kept in the file's metadata). */
const loadNet = (model: Module, file: string): CurvePoint[] => JSON.parse(model.load(file).curve!) as CurvePoint[];

/** Trains a network full-batch into `file` (resuming a killed training), or loads it when done. */
function fit(ctx: JobContext, model: Module, file: string, label: string, x: Tensor, y: Tensor, i: Pick<TheoryInputs, "iterations" | "lr" | "momentum">): CurvePoint[] {
  if (existsSync(file)) return loadNet(model, file);
  const statePath = file.replace(/\.safetensors$/, ".state.safetensors");
  const curve = trainFullBatch(model, x, y, {
    iterations: i.iterations, lr: i.lr, momentum: i.momentum, statePath, curveEvery: Math.max(1, Math.round(i.iterations / 200)),
    ...(ctx.progress ? { progress: `train ${label}` } : {}),
  });
  model.save(file, { curve: JSON.stringify(curve) });
  rmSync(statePath, { force: true });
  return curve;
}

export const theoryNet: JobKind = {
  name: "theory-net",
  summary: "paper B's artificial setting: the one-hidden-layer network trained full-batch (exponential loss) on D (f) or on the raw noise with its targets (h)",
  check(spec) {
    const i = spec.inputs as Partial<TheoryNetInputs>;
    if (i.set !== "natural" && i.set !== "noise") throw new OptionError(`${spec.id}: inputs.set is ${JSON.stringify(i.set)}; allowed: natural, noise`);
    checkShared(spec, ["d", "n", "width", "iterations"]);
  },
  run(ctx) {
    const i = ctx.spec.inputs as unknown as TheoryNetInputs;
    mkdirSync(ctx.dir, { recursive: true });
    const { x, y, labels } = theorySet(i);
    const model = network(i, initSeed(i.seed, i.set));
    try {
      const curve = fit(ctx, model, join(ctx.dir, NET_FILE), i.set === "natural" ? "f" : "h", x, y, i);
      return { rows: [], files: [join(ctx.spec.id, NET_FILE)], info: { finalLoss: curve.at(-1)!.loss } };
    } finally {
      model.dispose();
      torch.dispose([x, y, labels]);
    }
  },
};

export const perturbationTheory: JobKind = {
  name: "perturbation-theory",
  summary: "paper B's artificial cell: targeted attacks on noise against f, g trained on the perturbed noise; accuracies of f, g, h on D, f^bdy, decision maps",
  check(spec) {
    const i = spec.inputs as Partial<TheoryInputs>;
    if (!spec.deps?.f || !spec.deps.h) throw new OptionError(`${spec.id}: a perturbation-theory cell needs its theory-net jobs f (on D) and h (on the raw noise) as deps.f and deps.h`);
    if (!THEORY_NORMS.includes(i.norm!)) throw new OptionError(`${spec.id}: inputs.norm is ${JSON.stringify(i.norm)}; allowed: ${THEORY_NORMS.join(", ")}`);
    checkShared(spec, ["d", "n", "nAdv", "width", "steps", "iterations"]);
    if (!(typeof i.eps === "number" && i.eps > 0 && Number.isFinite(i.eps))) throw new OptionError(`${spec.id}: inputs.eps must be a number > 0, got ${JSON.stringify(i.eps)}`);
    if (i.norm === "l0" && !(i.eps <= 1)) throw new OptionError(`${spec.id}: inputs.eps is the share of coordinates for L0, in (0, 1], got ${i.eps}`);
    if (!Number.isSafeInteger(i.map) || i.map! < 0) throw new OptionError(`${spec.id}: inputs.map must be an integer ≥ 0 (grid side; 0 = no maps)`);
  },
  run(ctx) {
    const i = ctx.spec.inputs as unknown as TheoryInputs;
    mkdirSync(ctx.dir, { recursive: true });
    const load = (dep: Dependency, set: TheoryNetInputs["set"]) => {
      if (!isDeepStrictEqual(dep.spec.inputs, theoryNetInputs(i, set))) throw new OptionError(`${ctx.spec.id}: its ${set === "natural" ? "f" : "h"} job '${dep.spec.id}' trained another setting (${JSON.stringify(dep.spec.inputs)})`);
      const model = network(i, initSeed(i.seed, set));
      return { model, curve: loadNet(model, join(dep.dir, NET_FILE)) };
    };
    const data = theorySet(theoryNetInputs(i, "natural"));
    const noise = theorySet(theoryNetInputs(i, "noise"));
    const fresh = orthogonal("test", { n: FRESH_POINTS, d: i.d, noise: i.noise, seed: i.seed });
    const nets: Module[] = [];
    const disposables: Tensor[] = [];
    const keep = <T extends Tensor>(t: T) => (disposables.push(t), t);
    try {
      const { model: f, curve: curveF } = load(ctx.deps.f!, "natural");
      const { model: h, curve: curveH } = load(ctx.deps.h!, "noise");
      nets.push(f.eval(), h.eval());

      const eps = i.norm === "l0" ? l0Coordinates(i.eps, i.d) : i.eps;
      const ref = { attack: "paper-b-pgd", norm: i.norm, eps, options: i.norm === "l0" ? {} : { steps: i.steps } };
      const attackModel = new AttackModel(f, { bounds: i.noise === "uniform" ? [-1, 1] : [-Infinity, Infinity] });
      const r = attackBatches(attackModel, createAttack(ref), noise.x, noise.labels, { epsilons: [eps], batchSize: Math.min(i.nAdv, 1000), targets: "next", classes: 2 });
      const perturbed = keep(torch.tidy(() => noise.x.add(r.delta[0]!)));
      torch.dispose(r);

      const g = network(i, initSeed(i.seed, "noise"));
      nets.push(g);
      const curveG = fit(ctx, g, join(ctx.dir, "g.safetensors"), "g", perturbed, noise.y, i);
      g.eval();
      const on = (m: Module, x: Tensor, labels: Tensor) => torch.tidy(() => torch.noGrad(() => signAccuracy(m.forward(x), labels)));

      const dual = svmDual(data.x, data.y);
      keep(dual.lambda);
      const agreement = (x: Tensor) => torch.tidy(() => torch.noGrad(() => {
        const fb = boundaryMargin(data.x, data.y, dual.lambda, x);
        return f.forward(x).to("float64").mul(fb).gt(0).to("float64").mean().item();
      }));
      const orth = orthogonality(data.x, GAMMA);
      const [lambdaMin, lambdaMax] = torch.tidy(() => [dual.lambda.min().item(), dual.lambda.max().item()]);

      const rows = new Rows({ ...ctx.spec.tags, checkpoint: "final", epoch: 0, iteration: i.iterations, best: true });
      const a = i.norm;
      rows.scalar(a, "acc_f", on(f, data.x, data.y));
      rows.scalar(a, "acc_g", on(g, data.x, data.y));
      rows.scalar(a, "acc_h", on(h, data.x, data.y));
      rows.scalar(a, "acc_g_train", on(g, perturbed, noise.y));
      rows.scalar(a, "attack_fool_rate", on(f, perturbed, noise.y));
      rows.scalar(a, "final_loss_f", curveF.at(-1)!.loss);
      rows.scalar(a, "bdy_agreement", agreement(data.x));
      rows.scalar(a, "bdy_agreement_fresh", agreement(fresh.images));
      rows.scalar(a, "lambda_min", lambdaMin!);
      rows.scalar(a, "lambda_max", lambdaMax!);
      rows.scalar(a, "lambda_bound_low", orth.lambdaRange[0]);
      rows.scalar(a, "lambda_bound_high", orth.lambdaRange[1]);
      rows.scalar(a, "orth_pmax", orth.pMax);
      rows.scalar(a, "orth_bound", orth.bound);

      const files = [join(ctx.spec.id, "g.safetensors")];
      if (i.map > 0) {
        writeMaps(join(ctx.dir, "maps.safetensors"), f, [f, g, h], data.x, data.labels, i.map, { f: curveF, g: curveG, h: curveH });
        files.push(join(ctx.spec.id, "maps.safetensors"));
      }
      return { rows: rows.rows, files, info: { svmIterations: dual.iterations, svmResidual: dual.residual } };
    } finally {
      for (const m of nets) m.dispose();
      torch.dispose(disposables);
      torch.dispose([data, noise, fresh]);
    }
  },
};

/**
 * Paper B's decision maps (its decision_map.py): u₁, u₂ the normalised means of the first and last
 * m/2 rows of f's W; sign of each network on the grid s·u₁ + t·u₂, s, t ∈ [−3.4, 3.4] (row = t,
 * from −3.4 up; column = s); D projected onto (u₁, u₂) with its labels. The curves go in the metadata.
 */
function writeMaps(path: string, f: Module, models: Module[], x: Tensor, labels: Tensor, side: number, curves: Record<string, CurvePoint[]>): void {
  const tensors = torch.tidy(() => torch.noGrad(() => {
    const w = f.stateDict().get("linear.weight")!;
    const half = w.shape[0]! / 2;
    const unit = (v: Tensor) => v.div(v.norm());
    const basis = torch.stack([unit(w.narrow(0, 0, half).mean(0)), unit(w.narrow(0, half, half).mean(0))]);
    const axis = torch.linspace(-MAP_EXTENT, MAP_EXTENT, side);
    // Row-major grid: point (row r, column c) = axis[c]·u₁ + axis[r]·u₂.
    const coords = torch.stack([axis.unsqueeze(0).expand(side, side).reshape(-1), axis.unsqueeze(1).expand(side, side).reshape(-1)], 1);
    const rowsPerChunk = Math.max(1, Math.floor(2 ** 22 / (side * x.shape[1]!)));
    const maps = models.map((m) => {
      const parts: Tensor[] = [];
      for (let r = 0; r < side; r += rowsPerChunk) {
        const k = Math.min(rowsPerChunk, side - r);
        parts.push(torch.tidy(() => m.forward(coords.narrow(0, r * side, k * side).matmul(basis)).sign()));
      }
      return torch.cat(parts).reshape(side, side);
    });
    return new Map<string, Tensor>([
      ...maps.map((m, k) => [`map_${NETWORKS[k]}`, m] as const),
      ["projection", x.matmul(basis.T).contiguous()], ["labels", signedLabels(labels)], ["axis", axis],
    ]);
  }));
  try {
    torch.saveSafetensors(path, tensors, { curves: JSON.stringify(curves) });
  } finally {
    torch.dispose([...tensors.values()]);
  }
}
