// Paper B's linear boundary f^bdy(z) = Σ_n λ_n y_n ⟨x_n, z⟩ (Kumano et al. 2024, §3): λ from the
// dual of the hard-margin SVM without bias on the training set, and the quantities of the theorem's
// near-orthogonality condition γ³R_min⁴ / (3N R_max²) > p_max.
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";

export interface SvmDual {
  /** λ ≥ 0, float64 [N]. */
  lambda: Tensor;
  /** max_n |1 − y_n f^bdy(x_n)| over the support vectors, and the largest violation of y_n f^bdy(x_n) ≥ 1. */
  residual: number;
  iterations: number;
}

/**
 * Maximises Σλ − ½ λᵀQλ over λ ≥ 0, Q = (y yᵀ) ∘ (X Xᵀ), by projected gradient ascent with step
 * 1/‖Q‖₂ (in float64). Near-orthogonal data make Q nearly diagonal, so few steps are needed; the
 * loop stops once the KKT conditions hold to `tol` (margins ≥ 1 − tol, = 1 ± tol where λ > 0).
 */
export function svmDual(x: Tensor, y: Tensor, o: { tol?: number; maxIterations?: number } = {}): SvmDual {
  const tol = o.tol ?? 1e-6;
  const maxIterations = o.maxIterations ?? 100_000;
  return torch.tidy(() => {
    const xd = x.flatten(1).to("float64");
    const yd = y.to("float64");
    const q = xd.matmul(xd.T).mul(yd.unsqueeze(1).mul(yd.unsqueeze(0)));
    const step = 1 / torch.linalg.matrixNorm(q, 2).item();
    let lambda = torch.zeros([yd.shape[0]!], { dtype: "float64" });
    let residual = Infinity;
    let it = 0;
    // The KKT check costs a sync: every 50 steps.
    while (it < maxIterations) {
      const next = torch.tidy(() => lambda.add(q.matmul(lambda).neg().add(1), step).clamp(0, Infinity));
      torch.dispose(lambda);
      lambda = next;
      it++;
      if (it % 50 === 0 || it === maxIterations) {
        residual = kktResidual(q, lambda);
        if (residual <= tol) break;
      }
    }
    return { lambda, residual, iterations: it };
  });
}

function kktResidual(q: Tensor, lambda: Tensor): number {
  return torch.tidy(() => {
    const margin = q.matmul(lambda);
    const violation = margin.neg().add(1).clamp(0, Infinity).max().item();
    const support = lambda.gt(0);
    const off = support.sum().item() > 0 ? margin.sub(1).abs().maskedSelect(support).max().item() : 0;
    return Math.max(violation, off);
  });
}

/** f^bdy at points z [M, d]: Σ_n λ_n y_n ⟨x_n, z⟩, float64 [M]. */
export function boundaryMargin(x: Tensor, y: Tensor, lambda: Tensor, z: Tensor): Tensor {
  return torch.tidy(() => {
    const v = lambda.mul(y.to("float64")).unsqueeze(0).matmul(x.flatten(1).to("float64"));
    return z.flatten(1).to("float64").matmul(v.T).reshape(-1);
  });
}

export interface Orthogonality {
  rMin: number;
  rMax: number;
  pMax: number;
  /** γ³R_min⁴ / (3N R_max²): the condition holds when it exceeds pMax. */
  bound: number;
  /** The theorem's interval for λ_n: (1/(2R_max²), 3/(2γ²R_min²)). */
  lambdaRange: [number, number];
}

/** The sides of paper B's near-orthogonality condition for inputs x [N, d] and leaky slope γ. */
export function orthogonality(x: Tensor, gamma: number): Orthogonality {
  return torch.tidy(() => {
    const xd = x.flatten(1).to("float64");
    const n = xd.shape[0]!;
    const gram = xd.matmul(xd.T);
    const norms = xd.mul(xd).sum(1).sqrt();
    const rMin = norms.min().item();
    const rMax = norms.max().item();
    const pMax = n > 1 ? gram.mul(torch.eye(n, n, { dtype: "float64" }).neg().add(1)).abs().max().item() : 0;
    return { rMin, rMax, pMax, bound: (gamma ** 3 * rMin ** 4) / (3 * n * rMax ** 2), lambdaRange: [1 / (2 * rMax ** 2), 3 / (2 * gamma ** 2 * rMin ** 2)] };
  });
}
