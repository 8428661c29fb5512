// Where examples sit relative to the decision boundary (paper C, Wen, Li & Jia 2020: adversarial
// training pushes samples towards the boundary, with smaller margins and lower confidence).
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";

export interface OutputConfidence {
  /** z_y − max_{j≠y} z_j: positive when the example is classified correctly. float64 [N], CPU. */
  margin: Tensor;
  /** max_j softmax(z)_j, float64 [N], CPU. */
  confidence: Tensor;
  /** −Σ_j p_j log p_j of the softmax, in nats (log K for uniform logits), float64 [N], CPU. */
  entropy: Tensor;
}

/**
 * Margin, confidence and entropy of each example's logits [N, K] (K ≥ 2; a model with one output
 * per example gives two logits through AttackModel.logits) for labels int64 [N]. Computed in
 * float64 so that confidences near 1 and entropies near 0 keep their digits.
 */
export function outputConfidence(logits: Tensor, labels: Tensor): OutputConfidence {
  if (logits.ndim !== 2 || logits.shape[1]! < 2) {
    throw new RangeError(`outputConfidence: expected logits [N, K] with K ≥ 2, got shape [${logits.shape.join(", ")}]`);
  }
  if (labels.ndim !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new RangeError(`outputConfidence: expected labels [${logits.shape[0]}], got shape [${labels.shape.join(", ")}]`);
  }
  return torch.tidy(() => torch.noGrad(() => {
    const z = logits.detach().cpu().double();
    const y = labels.cpu().long().unsqueeze(1);
    const margin = z.gather(1, y).squeeze(1).sub(z.scatter(1, y, -Infinity).amax(1));
    const logp = z.logSoftmax(1);
    const p = logp.exp();
    // 0 · log 0 = 0 also for a logit of −∞ (p = 0 exactly, log p = −∞).
    const plogp = torch.where(p.gt(0), p.mul(logp), torch.zerosLike(p));
    return { margin, confidence: p.amax(1), entropy: plogp.sum(1).neg() };
  }));
}
