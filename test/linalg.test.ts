import assert from "node:assert/strict";
import { test } from "node:test";
import { torch } from "../src/index.js";
import type { Tensor } from "../src/torch/index.js";
import { assertClose, f64, gradcheck, values } from "./helpers.js";

const { tidy } = torch;

function naiveMatmul(a: number[], b: number[], n: number, k: number, m: number): number[] {
  const out = new Array(n * m).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) for (let p = 0; p < k; p++) out[i * m + j] += a[i * k + p]! * b[p * m + j]!;
  return out;
}

test("matmul, bmm and einsum equal a float64 triple loop", () => tidy(() => {
  const a = f64([5, 7], 1);
  const b = f64([7, 3], 2);
  const ref = naiveMatmul(values(a), values(b), 5, 7, 3);
  assertClose(a.matmul(b), ref, 1e-12);
  assertClose(a.float().matmul(b.float()), ref, 1e-5);
  assertClose(torch.einsum("ik,kj->ij", a, b), ref, 1e-12);
  const A = f64([4, 5, 7], 3);
  const B = f64([4, 7, 3], 4);
  const out = torch.bmm(A, B);
  for (let i = 0; i < 4; i++) assertClose(out.select(0, i), naiveMatmul(values(A.select(0, i)), values(B.select(0, i)), 5, 7, 3), 1e-12);
  assertClose(torch.einsum("bij,bjk->bik", A, B), out.toArray().toString().split(",").map(Number), 1e-12);
  assertClose(torch.einsum("ij,ij->", a, a), values(a).reduce((s, v) => s + v * v, 0), 1e-12);
  assertClose(a.matmul(f64([7], 5)), naiveMatmul(values(a), values(f64([7], 5)), 5, 7, 1), 1e-12);
}));

test("svd reconstructs, svdvals agree, qr gives orthonormal Q and upper-triangular R", () => tidy(() => {
  const a = f64([6, 4], 7);
  const { U, S, Vh } = torch.linalg.svd(a, false);
  assert.deepEqual([U.shape, S.shape, Vh.shape], [[6, 4], [4], [4, 4]]);
  assertClose(U.mul(S).matmul(Vh), values(a), 1e-10);
  assertClose(U.T.matmul(U), values(torch.eye(4, 4, { dtype: "float64" })), 1e-10);
  const s = values(S);
  assert.ok(s.every((v, i) => i === 0 || v <= s[i - 1]!));
  assertClose(torch.linalg.svdvals(a), s, 1e-10);
  assert.deepEqual(torch.linalg.svd(a).U.shape, [6, 6]);
  const { Q, R } = torch.linalg.qr(a);
  assertClose(Q.matmul(R), values(a), 1e-10);
  assertClose(Q.T.matmul(Q), values(torch.eye(4, 4, { dtype: "float64" })), 1e-10);
  const rv = R.toArray() as number[][];
  for (let i = 0; i < 4; i++) for (let j = 0; j < i; j++) assert.ok(Math.abs(rv[i]![j]!) < 1e-12);
  // The spectral norm is the largest singular value; Frobenius is the root of their squares.
  assertClose(torch.linalg.norm(a, 2), s[0]!, 1e-10);
  assertClose(torch.linalg.norm(a, "fro"), Math.sqrt(s.reduce((x, v) => x + v * v, 0)), 1e-10);
  assertClose(torch.linalg.norm(a, "nuc"), s.reduce((x, v) => x + v, 0), 1e-10);
  assertClose(torch.linalg.matrixNorm(a, 2), s[0]!, 1e-10);
  assertClose(torch.linalg.norm(a), Math.sqrt(values(a).reduce((x, v) => x + v * v, 0)), 1e-12);
  // A rank-one matrix u v^T has a single singular value |u||v|.
  const u = f64([5, 1], 8);
  const v = f64([1, 3], 9);
  const sv = values(torch.linalg.svdvals(u.matmul(v)));
  assertClose(sv[0]!, u.norm().item() * v.norm().item(), 1e-10);
  assert.ok(sv.slice(1).every((x) => x < 1e-12));
}));

test("finite-difference gradients of matmul, bmm, einsum, svdvals, qr and norms", () => {
  const a = f64([3, 4], 11);
  const b = f64([4, 2], 12);
  gradcheck((x, y) => x.matmul(y), [a, b], "matmul");
  gradcheck((x, y) => torch.bmm(x, y), [f64([2, 3, 4], 13), f64([2, 4, 2], 14)], "bmm");
  gradcheck((x, y) => torch.einsum("ij,jk->ik", x, y), [a, b], "einsum");
  const unary: [string, (t: Tensor) => Tensor][] = [
    ["svdvals", (t) => torch.linalg.svdvals(t)], ["qr.R", (t) => torch.linalg.qr(t.T).R], ["norm spectral", (t) => torch.linalg.norm(t, 2)],
    ["norm fro", (t) => torch.linalg.norm(t, "fro")], ["norm nuc", (t) => torch.linalg.norm(t, "nuc")],
  ];
  for (const [name, f] of unary) gradcheck(f, [a], name, 1e-5);
});
