// The model as attacks see it (Foolbox's `PyTorchModel`): a Module plus the input bounds the
// attack must stay within and the preprocessing applied inside the model, so that perturbations,
// ε and norms are measured in input (pixel) space. Attacks take only input gradients: while an
// attack runs, the module is in eval mode and its parameters do not require gradients, so autograd
// computes no weight gradient at all (a third of each step's work) and never touches `.grad`.
import type { Module } from "./module.js";
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";

/** The range inputs live in, [low, high]. */
export type Bounds = readonly [number, number];

/**
 * Normalisation the model expects, applied inside the wrapper: (x − mean) / std. Arrays run along
 * `axis` (default −3, the channels of N×C×H×W), as Foolbox's `preprocessing=dict(mean, std, axis)`.
 */
export interface Preprocessing {
  readonly mean?: number | readonly number[];
  readonly std?: number | readonly number[];
  readonly axis?: number;
}

export interface AttackModelOptions {
  /**
   * The range inputs live in, default [0, 1]; attacks clip to it and refuse inputs outside it.
   * [−Infinity, Infinity]: unbounded inputs (paper B's Gaussian data), for the attacks that need no box.
   */
  readonly bounds?: Bounds;
  readonly preprocessing?: Preprocessing;
  /** The module's forward pass under autocast (the logits come back in float32); default fp32. */
  readonly precision?: torch.Precision;
}

/** Loss of a batch from its logits (and the differentiable input, for losses that need it). */
export type LossFn = (logits: Tensor, x: Tensor) => Tensor;

export interface ValueAndGrad {
  /** lossFn's value, detached (per example [N] if lossFn returned that). */
  readonly loss: Tensor;
  /** The logits at x, detached. */
  readonly logits: Tensor;
  /** d(sum of loss)/dx, shaped like x. */
  readonly grad: Tensor;
}

function modulesOf(m: Module): Module[] {
  return [m, ...m.children().flatMap(([, c]) => modulesOf(c))];
}

function checkStats(name: string, v: number | readonly number[] | undefined, positive: boolean): void {
  const all = v === undefined ? [] : typeof v === "number" ? [v] : [...v];
  if (Array.isArray(v) && all.length === 0) throw new TypeError(`preprocessing.${name}: expected a number or a non-empty array`);
  for (const s of all) {
    if (typeof s !== "number" || !Number.isFinite(s) || (positive && s <= 0)) {
      throw new TypeError(`preprocessing.${name}: expected finite${positive ? " positive" : ""} numbers, got ${JSON.stringify(v)}`);
    }
  }
}

/**
 * A Module prepared for attacks. Models with one output per example (a binary margin f(x), shape
 * [N] or [N, 1], like paper B's network) are presented as two logits [−f/2, f/2]: class 1 is
 * f > 0, the logit difference is f, and cross-entropy on them is the logistic loss log(1 + e^(∓f)).
 */
export class AttackModel {
  readonly module: Module;
  readonly bounds: Bounds;
  readonly preprocessing: Preprocessing | undefined;
  readonly precision: torch.Precision;
  #depth = 0;
  #restore: (() => void) | undefined;
  #marginOutput: boolean | undefined;
  /** mean and std tensors per device and dtype, made once (kept outside every scope). */
  readonly #stats = new Map<string, [Tensor | undefined, Tensor | undefined]>();

  constructor(module: Module, options: AttackModelOptions = {}) {
    const [lo, hi] = options.bounds ?? [0, 1];
    if (!(typeof lo === "number" && typeof hi === "number" && lo < hi && lo !== Infinity && hi !== -Infinity)) {
      throw new RangeError(`bounds: expected [lower, upper] with lower < upper (±Infinity for none), got ${JSON.stringify(options.bounds)}`);
    }
    const p = options.preprocessing;
    if (p) {
      checkStats("mean", p.mean, false);
      checkStats("std", p.std, true);
      if (p.axis !== undefined && !(Number.isInteger(p.axis) && p.axis < 0)) {
        throw new TypeError(`preprocessing.axis: expected a negative integer (counted from the last dim), got ${p.axis}`);
      }
    }
    this.module = module;
    this.bounds = Object.freeze([lo, hi] as const);
    this.preprocessing = p;
    this.precision = options.precision ?? "fp32";
  }

  /** The bounds, for attacks that work inside a finite box (they refuse unbounded inputs by name). */
  finiteBounds(attack: string): Bounds {
    if (!this.bounds.every(Number.isFinite)) throw new RangeError(`${attack} needs finite input bounds; the model's are [${this.bounds.join(", ")}]`);
    return this.bounds;
  }

  /** Whether the module returns one value per example (known after the first forward pass). */
  get marginOutput(): boolean | undefined {
    return this.#marginOutput;
  }

  /**
   * Runs fn with the module in eval mode and every parameter's requiresGrad off, then restores
   * each submodule's mode and each parameter's flag (also when fn throws). Nested calls are free.
   */
  attacking<R>(fn: () => R): R {
    if (this.#depth === 0) this.#enter();
    this.#depth++;
    try {
      return fn();
    } finally {
      if (--this.#depth === 0) {
        const restore = this.#restore!;
        this.#restore = undefined;
        restore();
      }
    }
  }

  #enter(): void {
    // Submodules in pre-order: restoring parents first lets children override what train() set.
    const modules = modulesOf(this.module);
    const modes = modules.map((m) => m.training);
    const params = this.module.parameters();
    const flags = params.map((p) => p.requiresGrad);
    this.module.eval();
    for (const p of params) p.requiresGrad_(false);
    this.#restore = () => {
      params.forEach((p, i) => { if (!p.isDisposed) p.requiresGrad_(flags[i]); });
      modules.forEach((m, i) => m.train(modes[i]));
    };
  }

  /**
   * Refuses inputs with values outside the bounds (or NaN): attacks would silently clip them and
   * report perturbations that include the clip.
   */
  checkInputs(x: Tensor, what = "inputs"): void {
    const [lo, hi] = torch.tidy(() => torch.noGrad(() => [x.min().item(), x.max().item()]));
    const [blo, bhi] = this.bounds;
    if (!(lo! >= blo && hi! <= bhi)) {
      throw new RangeError(
        `${what}: values must lie within the model's bounds [${blo}, ${bhi}], got min ${lo}, max ${hi}. ` +
        "Give attacks unnormalised inputs and pass the model's normalisation as preprocessing (and matching bounds) to AttackModel.",
      );
    }
  }

  #statsFor(x: Tensor): [Tensor | undefined, Tensor | undefined] {
    const key = `${x.device}/${x.dtype}`;
    let s = this.#stats.get(key);
    if (!s) {
      const p = this.preprocessing!;
      const axis = p.axis ?? -3;
      const make = (v: number | readonly number[] | undefined) => {
        if (v === undefined) return undefined;
        const values = typeof v === "number" ? [v] : [...v];
        const shape = typeof v === "number" ? [] : [values.length, ...new Array<number>(-axis - 1).fill(1)];
        return torch.keep(torch.tensor(values, { shape, dtype: x.dtype, device: x.device }));
      };
      s = [make(p.mean), make(p.std)];
      this.#stats.set(key, s);
    }
    return s;
  }

  /** The logits of a batch (differentiable in x), with preprocessing applied and the module in eval mode. */
  logits(x: Tensor): Tensor {
    return this.attacking(() => {
      let input = x;
      if (this.preprocessing) {
        const [mean, std] = this.#statsFor(x);
        if (mean) input = input.sub(mean);
        if (std) input = input.div(std);
      }
      const out = torch.autocast(this.precision, input, () => this.module.forward(input));
      this.#marginOutput = out.ndim === 1 || (out.ndim === 2 && out.shape[1] === 1);
      if (!this.#marginOutput) return out;
      const f = out.reshape(-1);
      return torch.stack([f.mul(-0.5), f.mul(0.5)], 1);
    });
  }

  /** argmax of the logits, int64 [N], without recording a graph. */
  predict(x: Tensor): Tensor {
    return torch.tidy(() => torch.noGrad(() => this.logits(x).argmax(1)));
  }

  /**
   * lossFn at x, the logits, and the gradient of lossFn's sum with respect to x, through
   * `torch.autograd.grad` on a detached copy of x: no graph outlives the call, x itself is not
   * modified, and no parameter gradient is computed. Works inside noGrad too.
   */
  valueAndGrad(x: Tensor, lossFn: LossFn): ValueAndGrad {
    return this.attacking(() => torch.enableGrad(() => torch.tidy(() => {
      const xg = x.detach().requiresGrad_(true);
      const logits = this.logits(xg);
      const loss = lossFn(logits, xg);
      const [g] = torch.autograd.grad(loss.ndim === 0 ? loss : loss.sum(), [xg], { allowUnused: true });
      return { loss: loss.detach(), logits: logits.detach(), grad: g ?? torch.zerosLike(x) };
    })));
  }

  /** The input gradient of lossFn's sum at x (see valueAndGrad). */
  lossGradient(x: Tensor, lossFn: LossFn): Tensor {
    return torch.tidy(() => this.valueAndGrad(x, lossFn).grad);
  }

  /** Frees the cached preprocessing tensors (the module is the caller's). */
  dispose(): void {
    for (const [mean, std] of this.#stats.values()) {
      mean?.dispose();
      std?.dispose();
    }
    this.#stats.clear();
  }
}
