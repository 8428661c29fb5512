// The end-to-end linear predictor β of a network (paper A, v1 §3.3 and Table 1): for an affine
// network z(x) = βx + z(0), so β_c = ∂z_c/∂x, exact and architecture-agnostic through autograd.
import { AttackModel } from "../nn/attack-model.js";
import type { Module } from "../nn/module.js";
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";

/**
 * The model as analyses see it: a Module (inputs fed as they are) or an AttackModel, whose
 * preprocessing then counts as part of the network, so results are in pixel space.
 */
export type AnalysedModel = Module | AttackModel;

/** The AttackModel of a model: eval mode and no parameter gradients while it runs (see attacking()). */
export const asAttackModel = (model: AnalysedModel): AttackModel => (model instanceof AttackModel ? model : new AttackModel(model));

/** dtype and device of the model's parameters, which its inputs must share. */
export function inputOptions(model: AttackModel): { dtype: torch.DType; device: torch.Device } {
  const p = model.module.parameters()[0];
  return { dtype: p?.dtype ?? "float32", device: p?.device ?? "cpu" };
}

export function checkInputShape(inputShape: readonly number[], fn: string): void {
  if (!(inputShape.length >= 1 && inputShape.every((d) => Number.isInteger(d) && d >= 1))) {
    throw new RangeError(`${fn}: inputShape must be positive integers (one example, without the batch dim), got [${inputShape.join(", ")}]`);
  }
}

/**
 * β [classes, ...inputShape] with β_c = ∂z_c/∂x at x = 0, on the model's device. For an affine
 * network (isExactlyLinear) this is the whole linear part, the same at every x; for any other it
 * is only the local gradient at 0. One forward and one backward pass: the batch holds one zero
 * input per class and the loss Σ_c z_c(x_c) sends each class's gradient to its own input, which
 * holds because examples do not interact in eval mode.
 */
export function linearPredictor(model: AnalysedModel, inputShape: readonly number[]): Tensor {
  checkInputShape(inputShape, "linearPredictor");
  const m = asAttackModel(model);
  const opts = inputOptions(m);
  return torch.tidy(() => {
    const classes = torch.noGrad(() => m.logits(torch.zeros([1, ...inputShape], opts)).shape[1]!);
    const x = torch.zeros([classes, ...inputShape], opts);
    const eye = torch.eye(classes, classes, opts);
    return m.lossGradient(x, (logits) => logits.mul(eye).sum());
  });
}

/**
 * How far the network is from affine: ‖z(x) − z(0) − βx‖ / ‖z(x) − z(0)‖ over `points` inputs
 * drawn uniformly from [0, 1] (the images' range) with the given seed, β from linearPredictor.
 * About 1e-7 for affine networks in float32 (rounding only); order 0.1–1 for ReLU networks.
 */
export function linearityGap(model: AnalysedModel, inputShape: readonly number[], seed = 0, points = 8): number {
  checkInputShape(inputShape, "linearityGap");
  if (!(Number.isInteger(points) && points >= 1)) throw new RangeError(`linearityGap: points must be a positive integer, got ${points}`);
  const m = asAttackModel(model);
  const opts = inputOptions(m);
  using g = new torch.Generator(seed);
  return torch.tidy(() => {
    const beta = linearPredictor(m, inputShape).flatten(1);
    const x = torch.rand([points, ...inputShape], { generator: g, ...opts });
    return torch.noGrad(() => {
      const change = m.logits(x).sub(m.logits(torch.zeros([1, ...inputShape], opts)));
      return change.sub(x.flatten(1).matmul(beta.T)).norm().div(change.norm()).item();
    });
  });
}
