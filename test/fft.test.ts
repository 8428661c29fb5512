import assert from "node:assert/strict";
import { test } from "node:test";
import { torch } from "../src/index.js";
import { assertClose, f64, gradcheck, values } from "./helpers.js";

const { tidy, fft } = torch;

/** Naive 2-D DFT of a real H×W array: returns interleaved (re, im). */
function dft2(x: number[], H: number, W: number): number[] {
  const out: number[] = [];
  for (let u = 0; u < H; u++) for (let v = 0; v < W; v++) {
    let re = 0, im = 0;
    for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
      const a = -2 * Math.PI * (u * i / H + v * j / W);
      re += x[i * W + j]! * Math.cos(a);
      im += x[i * W + j]! * Math.sin(a);
    }
    out.push(re, im);
  }
  return out;
}

test("fft2 equals a direct DFT, in float64 and float32", () => tidy(() => {
  const x = f64([5, 6], 1);
  const ref = dft2(values(x), 5, 6);
  assertClose(torch.viewAsReal(fft.fft2(x)), ref, 1e-12);
  assertClose(torch.viewAsReal(fft.fft2(x.float())), ref, 1e-5);
  assertClose(torch.viewAsReal(fft.fft2(x, { norm: "ortho" })), ref.map((v) => v / Math.sqrt(30)), 1e-12);
  assertClose(torch.viewAsReal(fft.fft2(x, { norm: "forward" })), ref.map((v) => v / 30), 1e-12);
}));

test("a single Fourier mode is one spike at the right index after fftshift", () => tidy(() => {
  const N = 32;
  for (const [ku, kv] of [[3, 5], [-4, 2], [0, 7], [-16, -16]] as const) {
    const i = torch.arange(N, undefined, 1, { dtype: "float64" }).reshape(N, 1);
    const j = torch.arange(N, undefined, 1, { dtype: "float64" }).reshape(1, N);
    const wave = torch.cos(i.mul(2 * Math.PI * ku / N).add(j.mul(2 * Math.PI * kv / N)));
    const mag = values(fft.fftshift(fft.fft2(wave).abs()));
    // cos gives two conjugate spikes of height N²/2 at ±(ku, kv), DC at index N/2 after the shift.
    const at = (u: number, v: number) => mag[(((u % N) + N) % N + N / 2) % N * N + ((((v % N) + N) % N + N / 2) % N)]!;
    const spikes = ku === -16 && kv === -16 ? [[-16, -16]] : [[ku, kv], [-ku, -kv]];
    const height = spikes.length === 1 ? N * N : (N * N) / 2;
    for (const [u, v] of spikes) assertClose(at(u!, v!), height, 1e-9);
    const total = mag.reduce((a, b) => a + b, 0);
    assertClose(total, height * spikes.length, 1e-6, "all energy in the spikes");
  }
  const s = fft.fftshift(torch.arange(6)).toArray();
  assert.deepEqual(s, [3, 4, 5, 0, 1, 2]);
  assert.deepEqual(fft.ifftshift(fft.fftshift(torch.arange(7))).toArray(), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(fft.fftshift(torch.arange(4).reshape(2, 2), [1]).toArray(), [[1, 0], [3, 2]]);
}));

test("Parseval holds with norm 'ortho'; inverses round-trip", () => tidy(() => {
  const x = f64([3, 8, 8], 2);
  const energy = x.square().sum().item();
  const X = fft.fft2(x, { norm: "ortho" });
  assertClose(X.abs().square().sum(), energy, 1e-12);
  assertClose(torch.real(fft.ifft2(fft.fft2(x))), values(x), 1e-12);
  assertClose(torch.imag(fft.ifft2(fft.fft2(x))), values(x).map(() => 0), 1e-12);
  const R = fft.rfft2(x);
  assert.deepEqual(R.shape, [3, 8, 5]);
  assertClose(torch.viewAsReal(R), values(torch.viewAsReal(X.narrow(2, 0, 5))).map((v) => v * 8), 1e-12);
  assertClose(fft.irfft2(R, { s: [8, 8] }), values(x), 1e-12);
  const odd = f64([7, 5], 3);
  assertClose(fft.irfft2(fft.rfft2(odd), { s: [7, 5] }), values(odd), 1e-12);
  assertClose(torch.angle(fft.fft2(torch.ones([2, 2], { dtype: "float64" }))).select(0, 0).select(0, 0), 0, 0);
}));

test("finite-difference gradients through fft2, rfft2, irfft2, abs and angle", () => {
  const x = f64([4, 4], 5);
  gradcheck((t) => fft.fft2(t).abs(), [x], "|fft2|");
  gradcheck((t) => torch.real(fft.ifft2(fft.fft2(t, { norm: "ortho" }).mul(2))), [x], "ifft2");
  gradcheck((t) => torch.viewAsReal(fft.rfft2(t)), [x], "rfft2");
  gradcheck((t) => fft.irfft2(fft.rfft2(t).mul(3), { s: [4, 4] }), [x], "irfft2");
  gradcheck((t) => torch.angle(fft.fft2(t.add(3))).narrow(0, 1, 2), [x], "angle", 1e-5);
  gradcheck((t) => fft.fftshift(t.mul(2)), [x], "fftshift");
});
