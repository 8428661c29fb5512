// Pieces every zoo model shares: the common options, size arithmetic, in-place weight edits.
import { noGrad } from "../torch/autograd.js";
import { tidy } from "../torch/scope.js";
import type { Tensor } from "../torch/tensor.js";
import { Generator } from "../torch/random.js";
import type { Module } from "../nn/module.js";
import { int, optionError, shape, spec, type Resolved, type Schema } from "../util/schema.js";
import { tensor } from "../torch/ops.js";

/** A registry entry: the option schema and how to build the network from resolved options. */
export interface ModelDef<S extends Schema> {
  readonly summary: string;
  readonly schema: S;
  build(o: Resolved<S>, generator: Generator): Module;
  /** Whether the network is an affine map of its input, so its end-to-end linear predictor β is exact. */
  readonly isLinear?: (o: Resolved<S>) => boolean;
  /** How many hidden layers α multiplies; the readout weight is divided by α to this power (paper A, v1 Fig. 11). */
  readonly hiddenConvLayers?: (o: Resolved<S>) => number;
}

/** Keeps S precise for the registry's typed options. */
export const defineModel = <S extends Schema>(def: ModelDef<S>): ModelDef<S> => def;

const generator = spec("a torch.Generator", (v) => (v instanceof Generator ? v : undefined));

/** Where the initial weights come from: every model has these. */
export const seedOptions = () => ({
  seed: int(0)(0, "seed of the initial weights (ignored when a generator is given)"),
  generator: generator.optional("draw the initial weights from this generator (advanced by the draws) instead of a fresh one from seed"),
});

/** Per-channel mean and std an input is normalised with inside the model. */
export interface InputNormalization {
  mean: number[];
  std: number[];
}

const finiteList = (v: unknown, positive: boolean) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number" && Number.isFinite(x) && (!positive || x > 0));
const normalization = spec("{ mean: [..], std: [..] } with one number per channel (std > 0), or null", (v) =>
  v === null ? null : v && typeof v === "object" && finiteList((v as InputNormalization).mean, false) && finiteList((v as InputNormalization).std, true) &&
    (v as InputNormalization).mean.length === (v as InputNormalization).std.length ? (v as InputNormalization) : undefined);

export const normalizeOption = () => ({
  normalize: normalization(null, "normalise inputs inside the model, (x − mean) / std (paper B's wrapper; the sets' values are in the data registry); inputs must then lie in [0, 1]"),
});

/**
 * (x − mean) / std inside the model, so that checkpoints, attacks and training all see [0, 1]
 * inputs; inputs outside [0, 1] are refused, as paper B's wrapper asserts.
 */
export function normalizeInput(x: Tensor, n: InputNormalization | null): Tensor {
  if (!n) return x;
  const [lo, hi] = tidy(() => noGrad(() => [x.min().item(), x.max().item()]));
  if (!(lo! >= 0 && hi! <= 1)) throw new RangeError(`normalize: inputs must lie in [0, 1], got min ${lo}, max ${hi}`);
  const shape = [1, n.mean.length, 1, 1];
  return x.sub(tensor(n.mean, { shape }).to(x.device)).div(tensor(n.std, { shape }).to(x.device));
}

/** Options of every image classifier. `inputShape` is C, H, W (MNIST: [1, 28, 28]). */
export const commonOptions = (inputShape: number[]) => ({
  ...seedOptions(),
  classes: int(1)(10, "number of output logits"),
  inputShape: shape(3)(inputShape, "C, H, W of an input image"),
});

/** Output size of a conv or pool along one axis (PyTorch's formula). */
export const convOut = (size: number, kernel: number, stride = 1, padding = 0): number =>
  Math.floor((size + 2 * padding - kernel) / stride) + 1;

function param(m: Module, name: string): Tensor {
  const t = m.namedParameters().find(([k]) => k === name)?.[1];
  if (!t) throw new Error(`${m.constructor.name} has no parameter '${name}'`);
  return t;
}

/** Re-initialises a parameter in place, outside autograd, with make(its shape). */
export function reinit_(m: Module, name: string, make: (shape: readonly number[]) => Tensor): void {
  const t = param(m, name);
  noGrad(() => tidy(() => t.copy_(make(t.shape))));
}

/** Multiplies parameters in place, outside autograd (all of m's when no names are given). */
export function scale_(m: Module, factor: number, names?: readonly string[]): void {
  const targets = names ? names.map((n) => param(m, n)) : m.parameters();
  noGrad(() => tidy(() => targets.forEach((t) => t.mul_(factor))));
}

/** The side of square images (the torus convolutions and unshared-kernel layers assume H = W). */
export function squareSide(model: string, inputShape: readonly number[]): number {
  const [, h, w] = inputShape as [number, number, number];
  if (h !== w) throw optionError(model, "inputShape", inputShape, "C, H, W with H = W");
  return h;
}
