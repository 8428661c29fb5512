// Singular values of the input→layer Jacobians at each example (paper C, Wen, Li & Jia 2020:
// adversarial training makes layer responses smaller and flatter in their singular values).
// Jacobians are never formed beyond small sizes: autograd gives vector–Jacobian products Jᵀu, and
// Jacobian–vector products Jv come from differentiating Jᵀu with respect to u (the double-backward
// trick; Jᵀu is linear in u, so its graph is J itself whatever u's value). k products at once ride
// on a batch holding k copies of the examples, which eval mode keeps independent.
import type { AttackModel } from "../nn/attack-model.js";
import { CircularConv2d, Conv2d, Linear, LocallyConnected2d } from "../nn/layers.js";
import type { Module } from "../nn/module.js";
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";
import { asAttackModel, inputOptions, type AnalysedModel } from "./linear.js";

export interface JacobianSpectrum {
  /** "input→<module path>" e.g. "input→hidden.0", and "input→logits" for the model's output. */
  name: string;
  /**
   * float64 [N, k] on the CPU: per example, the top-k singular values of ∂h/∂x at that example (h
   * and x flattened per example), descending; min(k, outputs, inputs) columns when k exceeds the rank bound.
   */
  values: Tensor;
  /** Output and input dimensions of the Jacobian. */
  outputs: number;
  inputs: number;
  /** "exact" (full Jacobian then svdvals) or "subspace" (block power / subspace iteration on JᵀJ). */
  method: "exact" | "subspace";
}

export interface JacobianOptions {
  k: number;
  /** Subspace iterations (default 30). */
  iterations?: number;
  /** Jacobians with min(outputs, inputs) ≤ this are computed exactly (default 64). */
  exactUpTo?: number;
  /** Seed of the subspace iteration's random start (default 0). */
  seed?: number;
}

const TARGETS = [Linear, Conv2d, CircularConv2d, LocallyConnected2d];

function targetModules(m: Module, prefix = ""): [string, Module][] {
  const own: [string, Module][] = prefix && TARGETS.some((C) => m instanceof C) ? [[prefix.slice(0, -1), m]] : [];
  return own.concat(...m.children().map(([k, c]) => targetModules(c, `${prefix}${k}.`)));
}

/**
 * Runs the model on x with each module's forward shadowed on the instance (layers have no hooks),
 * calling seen(module, output) on the first output of each, and restores the forwards after.
 * Returns the modules whose output is the logits themselves (the readout, already the logits entry)
 * and the logits' size per example.
 */
function shadowed(m: AttackModel, modules: Module[], x: Tensor, seen: (module: Module, out: Tensor) => void): { readouts: Set<Module>; logits: number } {
  const firstOutputs = new Map<Module, Tensor>();
  for (const module of modules) {
    const forward = module.forward.bind(module);
    let first = true;
    Object.defineProperty(module, "forward", {
      configurable: true,
      value: (input: Tensor) => {
        const out = forward(input);
        if (first) {
          seen(module, out);
          firstOutputs.set(module, out);
        }
        first = false;
        return out;
      },
    });
  }
  try {
    return torch.tidy(() => {
      const logits = m.logits(x);
      return { readouts: new Set([...firstOutputs].filter(([, out]) => out === logits).map(([module]) => module)), logits: logits.numel / x.shape[0]! };
    });
  } finally {
    for (const module of modules) delete (module as { forward?: unknown }).forward;
  }
}

/** The target's output (the logits when undefined) at xr, flattened per example [B, M], in xr's graph. */
function outputAt(m: AttackModel, target: Module | undefined, xr: Tensor): Tensor {
  if (!target) return m.logits(xr).flatten(1);
  let kept: Tensor | undefined;
  try {
    // kept outlives the forward's scopes (and any a layer opens); the alias below returns it to ours.
    shadowed(m, [target], xr, (_, out) => { kept = torch.keep(out.flatten(1)); });
    return kept!.flatten(1);
  } finally {
    kept?.dispose();
  }
}

interface Linearised {
  /** Jᵀ U for U [N, M, r] → [N, D, r]. */
  vjp(u: Tensor): Tensor;
  /** J V for V [N, D, r] → [N, M, r]. */
  jvp(v: Tensor): Tensor;
}

/** J at each example, for r products at a time; tensors live in the caller's scope. */
function linearise(m: AttackModel, target: Module | undefined, x: Tensor, r: number, forwardMode: boolean): Linearised {
  const n = x.shape[0]!;
  const xr = x.repeat(r, ...x.shape.slice(1).map(() => 1)).requiresGrad_(true); // copy j of example i at j·n + i
  const h = outputAt(m, target, xr);
  const toBatch = (t: Tensor) => t.permute(2, 0, 1).reshape(r * n, -1);
  const fromBatch = (t: Tensor) => t.reshape(r, n, -1).permute(1, 2, 0);
  const vjp = (u: Tensor) => fromBatch(torch.autograd.grad(h, xr, { gradOutputs: [toBatch(u)], retainGraph: true })[0]!);
  if (!forwardMode) return { vjp, jvp: () => { throw new Error("linearise: built without forward mode"); } };
  const u = torch.zerosLike(h).requiresGrad_(true);
  const g = torch.autograd.grad(h, xr, { gradOutputs: [u], createGraph: true })[0]!;
  const jvp = (v: Tensor) => fromBatch(torch.autograd.grad(g, u, { gradOutputs: [toBatch(v).reshape(...xr.shape)], retainGraph: true })[0]!);
  return { vjp, jvp };
}

function spectrum(m: AttackModel, target: Module | undefined, x: Tensor, outputs: number, o: Required<JacobianOptions>): Pick<JacobianSpectrum, "values" | "method"> {
  const [n, inputs] = [x.shape[0]!, x.numel / x.shape[0]!];
  const rank = Math.min(outputs, inputs);
  const k = Math.min(o.k, rank);
  const top = (J: Tensor) => torch.linalg.svdvals(J.double()).narrow(1, 0, k).cpu();
  return torch.tidy(() => {
    if (rank <= o.exactUpTo) {
      // J from one-hot products along its shorter side.
      const eye = (d: number) => torch.eye(d, d, { dtype: x.dtype, device: x.device }).expand(n, d, d);
      const J = outputs <= inputs // or Jᵀ: the same singular values
        ? linearise(m, target, x, outputs, false).vjp(eye(outputs))
        : linearise(m, target, x, inputs, true).jvp(eye(inputs));
      return { values: top(J), method: "exact" as const };
    }
    // An oversampled block b > k: σ_k converges at the rate of σ_(b+1) / σ_k, not of σ_(k+1) / σ_k (clustered spectra, conv layers).
    const b = Math.min(rank, 2 * k + 4);
    const lin = linearise(m, target, x, b, true);
    using gen = new torch.Generator(o.seed);
    let V = torch.tidy(() => torch.linalg.qr(torch.randn([n, inputs, b], { generator: gen, dtype: x.dtype }).to(x.device)).Q);
    for (let i = 0; i < o.iterations; i++) {
      const next = torch.tidy(() => torch.linalg.qr(lin.vjp(lin.jvp(V))).Q);
      V.dispose();
      V = next;
    }
    // Rayleigh–Ritz: the singular values of J restricted to the subspace, from J V, not from JᵀJ (no squared conditioning).
    return { values: top(lin.jvp(V)), method: "subspace" as const };
  });
}

/**
 * Top-k singular values of the Jacobian of every Linear / Conv2d / CircularConv2d /
 * LocallyConnected2d module's output (those on the forward path, in the order they first run; the
 * root module, and a readout whose output the model returns as it is, are the logits entry) and of the logits, with respect to the input, at each example
 * of x [N, ...]. Jacobians with min(outputs, inputs) ≤ exactUpTo are formed from one-hot products;
 * larger ones come from subspace iteration on JᵀJ with a block of 2k + 4, each iteration one JVP and
 * one VJP on a batch of that many copies of x. Computed in the model's dtype, in eval mode,
 * without parameter gradients; an AttackModel's preprocessing is part of the map (pixel space).
 */
export function jacobianSpectra(model: AnalysedModel, x: Tensor, o: JacobianOptions): JacobianSpectrum[] {
  const opts: Required<JacobianOptions> = { k: o.k, iterations: o.iterations ?? 30, exactUpTo: o.exactUpTo ?? 64, seed: o.seed ?? 0 };
  for (const [key, min] of [["k", 1], ["iterations", 0], ["exactUpTo", 0], ["seed", 0]] as const) {
    if (!(Number.isSafeInteger(opts[key]) && opts[key] >= min)) throw new RangeError(`jacobianSpectra: ${key} must be an integer ≥ ${min}, got ${opts[key]}`);
  }
  if (x.ndim < 2 || x.shape[0] === 0) throw new RangeError(`jacobianSpectra: expected a batch x [N, ...], got shape [${x.shape.join(", ")}]`);
  const m = asAttackModel(model);
  const { dtype, device } = inputOptions(m);
  return m.attacking(() => torch.enableGrad(() => torch.tidy(() => {
    const input = x.detach().to(dtype).to(device);
    const named = targetModules(m.module);
    const outputs = new Map<Module, number>();
    const { readouts, logits } = torch.noGrad(() => shadowed(m, named.map(([, t]) => t), input.narrow(0, 0, 1), (t, out) => outputs.set(t, out.numel)));
    for (const t of readouts) outputs.delete(t);
    const nameOf = new Map(named.map(([name, t]) => [t, name]));
    const targets: [string, Module | undefined, number][] = [...outputs].map(([t, size]) => [nameOf.get(t)!, t, size]);
    targets.push(["logits", undefined, logits]);
    const inputs = input.numel / input.shape[0]!;
    return targets.map(([name, t, size]) => ({ name: `input→${name}`, outputs: size, inputs, ...spectrum(m, t, input, size, opts) }));
  })));
}
