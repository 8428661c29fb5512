// ReLU breakpoints and gradient roughness along the segment from x to x + u (paper A, v1 §3.2,
// Figs. 1, 6, 7; our metrics, docs/methods.md), for an adversarial u = δ or its matched random control.
import type { AttackModel } from "../nn/attack-model.js";
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";
import { asAttackModel, inputOptions, type AnalysedModel } from "./linear.js";

const F = torch.nn.functional;

function normsPerExample(t: Tensor): Tensor {
  return t.flatten(1).norm(2, 1).reshape(-1, ...new Array<number>(t.ndim - 1).fill(1));
}

/**
 * The random control (our choice, docs/methods.md): r ~ N(0, I) rescaled so that ‖r_i‖₂ = ‖δ_i‖₂ for every example i
 * (a zero δ_i gives a zero r_i). Drawn on the CPU from `generator`, in δ's dtype and on its device.
 */
export function matchedRandom(delta: Tensor, generator: torch.Generator): Tensor {
  if (delta.ndim < 2) throw new RangeError(`matchedRandom: expected a batch [N, ...], got shape [${delta.shape.join(", ")}]`);
  return torch.tidy(() => {
    const r = torch.randn(delta.shape, { generator, dtype: delta.dtype, device: delta.device });
    return r.mul(normsPerExample(delta).div(normsPerExample(r)));
  });
}

export interface PathResult {
  /** Fraction of ReLUs whose state changes at least once along the path (0 for a network without ReLUs). */
  everFlipped: Tensor;
  /** State changes between consecutive points / (ReLUs · (T − 1)). */
  totalFlips: Tensor;
  /** mean over the T points of 1 − cos(∇z_y(x + tu), ∇z_y(x)), y the true label. */
  roughnessTrue: Tensor;
  /** The same for the adversarial label. */
  roughnessAdv: Tensor;
}

export interface PathOptions {
  /** T, points on [0, 1] including both ends (default 100). */
  points?: number;
  /** Inputs per forward pass (default 256): bounds memory whatever the number of examples. */
  batchSize?: number;
}

/** Running per-example sums over the points seen so far of a group of examples. */
interface Accumulator {
  /** ReLU states [G, S] at the last point seen. */
  last: Tensor;
  ever: Tensor;
  flips: Tensor;
  /** Logit gradients at t = 0 [G, D], the reference directions. */
  refTrue: Tensor;
  refAdv: Tensor;
  roughTrue: Tensor;
  roughAdv: Tensor;
}

/** cos(a_i, b_i) along the last dim, each norm clamped at 1e-8 as torch.nn.functional.cosine_similarity does. */
function cosine(a: Tensor, b: Tensor): Tensor {
  return a.mul(b).sum(-1).div(a.norm(2, -1).clamp(1e-8).mul(b.norm(2, -1).clamp(1e-8)));
}

/**
 * Evaluates points ts of the segments of a group of G examples in one forward and two backward
 * passes, and folds them into the accumulator (undefined before the first points, which must
 * start at t = 0).
 */
function step(m: AttackModel, x: Tensor, u: Tensor, y: Tensor, adv: Tensor, ts: number[], acc: Accumulator | undefined): Accumulator {
  const [P, G] = [ts.length, x.shape[0]!];
  const B = P * G;
  const t = torch.tensor(ts, { dtype: x.dtype, device: x.device, shape: [P, 1, ...new Array<number>(x.ndim - 1).fill(1)] });
  const inputs = x.unsqueeze(0).add(t.mul(u.unsqueeze(0))).reshape(B, ...x.shape.slice(1));
  const states: Tensor[] = [];
  const [gTrue, gAdv] = m.attacking(() => torch.enableGrad(() => {
    const xin = inputs.requiresGrad_(true);
    // Inputs of relu / leakyRelu in call order: the states of every ReLU unit at every point.
    const logits = F.observeActivations(() => m.logits(xin), (z) => states.push(z.detach().gt(0).reshape(B, -1)));
    const pick = (labels: Tensor) => logits.gather(1, labels.unsqueeze(0).expand(P, G).reshape(B, 1)).sum();
    const [a] = torch.autograd.grad(pick(y), [xin], { retainGraph: true });
    const [b] = torch.autograd.grad(pick(adv), [xin]);
    return [a!.reshape(P, G, -1), b!.reshape(P, G, -1)];
  }));
  const now = states.length ? torch.cat(states, 1).reshape(P, G, -1) : torch.zeros([P, G, 0], { dtype: "bool", device: x.device });
  const seq = acc ? torch.cat([acc.last.unsqueeze(0), now]) : now;
  const changed = seq.narrow(0, 1, seq.shape[0]! - 1).ne(seq.narrow(0, 0, seq.shape[0]! - 1));
  const refTrue = acc?.refTrue ?? gTrue!.select(0, 0);
  const refAdv = acc?.refAdv ?? gAdv!.select(0, 0);
  const roughTrue = cosine(gTrue!, refTrue.unsqueeze(0)).neg().add(1).sum(0);
  const roughAdv = cosine(gAdv!, refAdv.unsqueeze(0)).neg().add(1).sum(0);
  const ever = changed.sum(0).gt(0);
  const flips = changed.sum([0, 2]);
  return {
    last: now.select(0, P - 1),
    ever: acc ? acc.ever.logicalOr(ever) : ever,
    flips: acc ? acc.flips.add(flips) : flips,
    refTrue: refTrue.clone(),
    refAdv: refAdv.clone(),
    roughTrue: acc ? acc.roughTrue.add(roughTrue) : roughTrue,
    roughAdv: acc ? acc.roughAdv.add(roughAdv) : roughAdv,
  };
}

/**
 * The flip and roughness metrics (docs/methods.md) along x_i + t·u_i at T equally spaced t ∈ [0, 1] (both ends included), for every
 * example i. A ReLU's state is input > 0, read through F.relu / F.leakyRelu (observeActivations),
 * so every ReLU unit of any model counts; other activations (GELU) have no breakpoints here.
 * Roughness averages over all T points, t = 0 included (where it is 0). The model runs in eval
 * mode without weight gradients; each forward pass holds at most batchSize inputs. Results are
 * float64 [N] on the CPU.
 */
export function pathAnalysis(model: AnalysedModel, x: Tensor, direction: Tensor, labels: Tensor, advLabels: Tensor, o: PathOptions = {}): PathResult {
  const T = o.points ?? 100;
  const batchSize = o.batchSize ?? 256;
  if (!(Number.isInteger(T) && T >= 2)) throw new RangeError(`pathAnalysis: points must be an integer ≥ 2 (both ends of the segment), got ${T}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`pathAnalysis: batchSize must be a positive integer, got ${batchSize}`);
  if (x.ndim < 2 || direction.shape.join() !== x.shape.join()) {
    throw new RangeError(`pathAnalysis: x and direction must be batches of the same shape, got [${x.shape.join(", ")}] and [${direction.shape.join(", ")}]`);
  }
  const n = x.shape[0]!;
  for (const [name, l] of [["labels", labels], ["advLabels", advLabels]] as const) {
    if (l.shape.join() !== String(n)) throw new RangeError(`pathAnalysis: ${name} must have shape [${n}], got [${l.shape.join(", ")}]`);
  }
  const m = asAttackModel(model);
  const { device } = inputOptions(m);
  const ts = Array.from({ length: T }, (_, k) => k / (T - 1));
  // Whole segments of `group` examples per pass when they fit, else `chunk` points of one example.
  const chunk = Math.min(T, batchSize);
  const group = Math.max(1, Math.floor(batchSize / chunk));
  const parts: PathResult[] = [];
  try {
    for (let start = 0; start < n; start += group) {
      parts.push(torch.tidy(() => {
        const size = Math.min(group, n - start);
        const [xs, us] = [x, direction].map((t) => t.narrow(0, start, size).detach().to(device));
        const [ys, as] = [labels, advLabels].map((t) => t.narrow(0, start, size).to(device));
        let acc: Accumulator | undefined;
        for (let p = 0; p < T; p += chunk) {
          torch.checkInterrupt();
          const next = torch.tidy(() => step(m, xs!, us!, ys!, as!, ts.slice(p, p + chunk), acc));
          if (acc) torch.dispose(acc);
          acc = next;
        }
        const units = acc!.last.shape[1]!;
        const perUnit = (count: Tensor, per: number) => (units === 0 ? torch.zerosLike(count, { dtype: "float64" }) : count.double().div(per));
        return {
          everFlipped: perUnit(acc!.ever.sum(1), units).cpu(),
          totalFlips: perUnit(acc!.flips, units * (T - 1)).cpu(),
          roughnessTrue: acc!.roughTrue.double().div(T).cpu(),
          roughnessAdv: acc!.roughAdv.double().div(T).cpu(),
        };
      }));
    }
    return torch.tidy(() => {
      const cat = (k: keyof PathResult) => (parts.length ? torch.cat(parts.map((r) => r[k])) : torch.zeros([0], { dtype: "float64" }));
      return { everFlipped: cat("everFlipped"), totalFlips: cat("totalFlips"), roughnessTrue: cat("roughnessTrue"), roughnessAdv: cat("roughnessAdv") };
    });
  } finally {
    torch.dispose(parts);
  }
}
