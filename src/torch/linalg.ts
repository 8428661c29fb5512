import { h, w } from "./handles.js";
import { N } from "./native.js";
import type { Tensor } from "./tensor.js";

/** A = U diag(S) Vh (batched over leading dims). */
export function svd(a: Tensor, fullMatrices = true): { U: Tensor; S: Tensor; Vh: Tensor } {
  const [U, S, Vh] = N.svd(h(a), fullMatrices).map(w);
  return { U: U!, S: S!, Vh: Vh! };
}
export const svdvals = (a: Tensor) => w(N.svdvals(h(a)));
export function qr(a: Tensor, mode: "reduced" | "complete" | "r" = "reduced"): { Q: Tensor; R: Tensor } {
  const [Q, R] = N.qr(h(a), mode).map(w);
  return { Q: Q!, R: R! };
}
/**
 * torch.linalg.norm: vector norms for 1 dim, matrix norms for 2 ("fro", "nuc", 2 = spectral,
 * -2, 1, -1, Infinity, -Infinity); without ord, the 2-norm of the flattened input or Frobenius.
 */
export function norm(a: Tensor, ord?: number | "fro" | "nuc", dim?: number | readonly number[], keepdim = false): Tensor {
  return w(typeof ord === "string" ? N.linalg_norm_str(h(a), ord, dim, keepdim) : N.linalg_norm(h(a), ord, dim, keepdim));
}
export const matrixNorm = (a: Tensor, ord: number | "fro" | "nuc" = "fro", dim: readonly number[] = [-2, -1], keepdim = false) =>
  norm(a, ord, dim, keepdim);
