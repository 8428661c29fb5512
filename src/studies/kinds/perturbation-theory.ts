// `perturbation-theory`: one cell of paper B's artificial experiment (Kumano et al. 2024, §5.1 and
// its code's artificial.py). On N nearly orthogonal samples D with ±1 labels, train the standard
// one-hidden-layer network f full-batch with the exponential loss; draw N^adv noise inputs of the
// same law with random targets; attack each toward its target against f (paper B's targeted PGD,
// best iterate); train a fresh g on the perturbed noise and h (same initialisation) on the raw
// noise. Rows: the three accuracies on D, the attack's fool rate, the agreement of f with the
// linear boundary f^bdy of the SVM dual, and the sides of the near-orthogonality condition.
// Files: <id>/f|g|h.safetensors (weights, loss curve in the metadata) and <id>/maps.safetensors
// (the decision maps of f, g, h on the plane of u₁, u₂ and D projected onto it).
//
// Each training saves its state every minute of work and each finished network is a file, so a
// killed job resumes where it was; the attack (no random start) is recomputed, identically.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { boundaryMargin, orthogonality, svmDual } from "../../analysis/boundary.js";
import { attackBatches } from "../../attacks/batch.js";
import { createAttack } from "../../attacks/registry.js";
import { deriveSeed, orthogonal, signedLabels } from "../../data/index.js";
import { createModel } from "../../models/index.js";
import { AttackModel } from "../../nn/attack-model.js";
import type { Module } from "../../nn/module.js";
import * as torch from "../../torch/index.js";
import type { Tensor } from "../../torch/index.js";
import { type CurvePoint, signAccuracy, trainFullBatch } from "../../train/full-batch.js";
import { OptionError } from "../../util/schema.js";
import type { JobKind } from "../graph.js";
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

/** The leaky slope of paper B's network (PyTorch's default), which the theorem's constants use. */
const GAMMA = 0.01;
const MAP_EXTENT = 3.4;
const FRESH_POINTS = 1000;
const NETWORKS = ["f", "g", "h"] as const;

/** Coordinates an L0 attack changes for a share of d. */
export const l0Coordinates = (share: number, d: number): number => Math.max(1, Math.round(share * d));

const positiveInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1;

export const perturbationTheory: JobKind = {
  name: "perturbation-theory",
  summary: "paper B's artificial cell: f on orthogonal data, targeted attacks on noise, g on perturbed and h on raw noise; accuracies, f^bdy, decision maps",
  check(spec) {
    const i = spec.inputs as Partial<TheoryInputs>;
    if (!THEORY_NOISES.includes(i.noise!)) throw new OptionError(`${spec.id}: inputs.noise is ${JSON.stringify(i.noise)}; allowed: ${THEORY_NOISES.join(", ")}`);
    if (!THEORY_NORMS.includes(i.norm!)) throw new OptionError(`${spec.id}: inputs.norm is ${JSON.stringify(i.norm)}; allowed: ${THEORY_NORMS.join(", ")}`);
    for (const k of ["d", "n", "nAdv", "width", "steps", "iterations"] as const) {
      if (!positiveInt(i[k])) throw new OptionError(`${spec.id}: inputs.${k} must be an integer ≥ 1, got ${JSON.stringify(i[k])}`);
    }
    if (i.width! % 2 !== 0) throw new OptionError(`${spec.id}: inputs.width must be even (half the units have output weight +1/√m, half −1/√m), got ${i.width}`);
    for (const k of ["eps", "lr"] as const) {
      if (!(typeof i[k] === "number" && i[k]! > 0 && Number.isFinite(i[k]))) throw new OptionError(`${spec.id}: inputs.${k} must be a number > 0, got ${JSON.stringify(i[k])}`);
    }
    if (i.norm === "l0" && !(i.eps! <= 1)) throw new OptionError(`${spec.id}: inputs.eps is the share of coordinates for L0, in (0, 1], got ${i.eps}`);
    if (!(typeof i.momentum === "number" && i.momentum >= 0 && i.momentum < 1)) throw new OptionError(`${spec.id}: inputs.momentum must be in [0, 1), got ${JSON.stringify(i.momentum)}`);
    if (!Number.isSafeInteger(i.seed) || i.seed! < 0) throw new OptionError(`${spec.id}: inputs.seed must be an integer ≥ 0`);
    if (!Number.isSafeInteger(i.map) || i.map! < 0) throw new OptionError(`${spec.id}: inputs.map must be an integer ≥ 0 (grid side; 0 = no maps)`);
  },
  run(ctx) {
    const i = ctx.spec.inputs as unknown as TheoryInputs;
    mkdirSync(ctx.dir, { recursive: true });
    const data = orthogonal("train", { n: i.n, d: i.d, noise: i.noise, seed: i.seed });
    const noise = orthogonal("train", { n: i.nAdv, d: i.d, noise: i.noise, seed: deriveSeed(i.seed, "noise") });
    const fresh = orthogonal("test", { n: FRESH_POINTS, d: i.d, noise: i.noise, seed: i.seed });
    const nets = new Map<string, Module>();
    const disposables: Tensor[] = [];
    const keep = <T extends Tensor>(t: T) => (disposables.push(t), t);
    try {
      const y = keep(signedLabels(data.labels));
      const fit = (name: (typeof NETWORKS)[number], x: Tensor, labels: Tensor, init: number): CurvePoint[] => {
        const model = createModel("onehidden", { inputShape: [i.d], width: i.width, seed: init });
        nets.set(name, model);
        const file = join(ctx.dir, `${name}.safetensors`);
        if (existsSync(file)) return JSON.parse(model.load(file).curve!) as CurvePoint[];
        const statePath = join(ctx.dir, `${name}.state.safetensors`);
        const curve = trainFullBatch(model, x, labels, {
          iterations: i.iterations, lr: i.lr, momentum: i.momentum, statePath, curveEvery: Math.max(1, Math.round(i.iterations / 200)),
          ...(ctx.progress ? { progress: `train ${name}` } : {}),
        });
        model.save(file, { curve: JSON.stringify(curve) });
        rmSync(statePath, { force: true });
        return curve;
      };
      const curveF = fit("f", data.images, y, deriveSeed(i.seed, "f"));
      const f = nets.get("f")!.eval();

      // The noise's labels ℓ; the targets are the other class, 1 − ℓ (random, as the noise's labels are).
      const eps = i.norm === "l0" ? l0Coordinates(i.eps, i.d) : i.eps;
      const ref = { attack: "paper-b-pgd", norm: i.norm, eps, options: i.norm === "l0" ? {} : { steps: i.steps } };
      const attackModel = new AttackModel(f, { bounds: i.noise === "uniform" ? [-1, 1] : [-Infinity, Infinity] });
      const r = attackBatches(attackModel, createAttack(ref), noise.images, noise.labels, { epsilons: [eps], batchSize: Math.min(i.nAdv, 1000), targets: "next", classes: 2 });
      const perturbed = keep(torch.tidy(() => noise.images.add(r.delta[0]!)));
      const t = keep(signedLabels(r.targets!));
      torch.dispose(r);

      // g and h start from the same weights: only their data differ.
      const init = deriveSeed(i.seed, "fresh");
      const curveG = fit("g", perturbed, t, init);
      const curveH = fit("h", noise.images, t, init);
      const [g, h] = [nets.get("g")!.eval(), nets.get("h")!.eval()];
      const on = (m: Module, x: Tensor, labels: Tensor) => torch.tidy(() => torch.noGrad(() => signAccuracy(m.forward(x), labels)));

      const dual = svmDual(data.images, y);
      keep(dual.lambda);
      const agreement = (x: Tensor) => torch.tidy(() => torch.noGrad(() => {
        const fb = boundaryMargin(data.images, y, dual.lambda, x);
        return f.forward(x).to("float64").mul(fb).gt(0).to("float64").mean().item();
      }));
      const orth = orthogonality(data.images, GAMMA);
      const [lambdaMin, lambdaMax] = torch.tidy(() => [dual.lambda.min().item(), dual.lambda.max().item()]);

      const rows = new Rows({ ...ctx.spec.tags, checkpoint: "final", epoch: 0, iteration: i.iterations, best: true });
      const a = i.norm;
      rows.scalar(a, "acc_f", on(f, data.images, y));
      rows.scalar(a, "acc_g", on(g, data.images, y));
      rows.scalar(a, "acc_h", on(h, data.images, y));
      rows.scalar(a, "acc_g_train", on(g, perturbed, t));
      rows.scalar(a, "attack_fool_rate", on(f, perturbed, t));
      rows.scalar(a, "final_loss_f", curveF.at(-1)!.loss);
      rows.scalar(a, "bdy_agreement", agreement(data.images));
      rows.scalar(a, "bdy_agreement_fresh", agreement(fresh.images));
      rows.scalar(a, "lambda_min", lambdaMin!);
      rows.scalar(a, "lambda_max", lambdaMax!);
      rows.scalar(a, "lambda_bound_low", orth.lambdaRange[0]);
      rows.scalar(a, "lambda_bound_high", orth.lambdaRange[1]);
      rows.scalar(a, "orth_pmax", orth.pMax);
      rows.scalar(a, "orth_bound", orth.bound);

      const files = NETWORKS.map((n) => join(ctx.spec.id, `${n}.safetensors`));
      if (i.map > 0) {
        writeMaps(join(ctx.dir, "maps.safetensors"), f, [f, g, h], data.images, data.labels, i.map, { f: curveF, g: curveG, h: curveH });
        files.push(join(ctx.spec.id, "maps.safetensors"));
      }
      return { rows: rows.rows, files, info: { svmIterations: dual.iterations, svmResidual: dual.residual } };
    } finally {
      for (const m of nets.values()) m.dispose();
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
