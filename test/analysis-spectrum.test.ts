import assert from "node:assert/strict";
import { test } from "node:test";
import { analysis, torch } from "../src/index.js";
import type { Tensor } from "../src/torch/index.js";
import { assertClose, f64, values } from "./helpers.js";

const { tidy } = torch;
const { centredSpectrum, luminance, meanSpectrum, radialBinCount, summarizeSpectrum } = analysis;

/** cos(2π(v·i/H + u·j/W)): one conjugate pair of Fourier modes, v along rows, u along columns. */
function planeWave(h: number, w: number, v: number, u: number, channels = 1): Tensor {
  return tidy(() => {
    const i = torch.arange(h, undefined, 1, { dtype: "float64" }).reshape(h, 1);
    const j = torch.arange(w, undefined, 1, { dtype: "float64" }).reshape(1, w);
    return torch.cos(i.mul((2 * Math.PI * v) / h).add(j.mul((2 * Math.PI * u) / w))).expand(1, channels, h, w).contiguous();
  });
}

const oneHot = (n: number, k: number) => Array.from({ length: n }, (_, i) => (i === k ? 1 : 0));

test("a plane wave puts all its energy in one radial and one angular bin", () => tidy(() => {
  // [v (rows), u (columns), radial bin, angular bin]: φ = atan2(v, u) folded to [0°, 180°).
  const cases: [number, number, number, number][] = [
    [3, 4, 5, 3], // 36.9°, and its conjugate (−4, −3) folds onto it
    [0, 7, 7, 0], // 0° and 180° are the same direction
    [6, 0, 6, 9], // exactly 90°
    [-5, 5, 7, 13], // 135°, r = 7.07
    [12, 5, 13, 6], // 67.4°
  ];
  for (const [v, u, rb, ab] of cases) {
    for (const channels of [1, 3]) {
      const s = summarizeSpectrum(planeWave(32, 32, v, u, channels));
      const what = `wave (${v}, ${u}) with ${channels} channel(s)`;
      assert.equal(s.radial.shape[1], 23);
      assertClose(s.radial, oneHot(23, rb), 1e-9, `${what}: radial`);
      assertClose(s.angular, oneHot(18, ab), 1e-9, `${what}: angular`);
      const r = Math.hypot(u, v);
      assertClose(s.centroid, r, 1e-9, `${what}: centroid`);
      assertClose(s.hf8, r > 8 ? 1 : 0, 1e-9, `${what}: hf8`);
      assertClose(s.hf12, r > 12 ? 1 : 0, 1e-9, `${what}: hf12`);
      // Two spikes of height HW/2 (× the luminance weight sum 0.9999 for RGB).
      const height = (32 * 32 / 2) * (channels === 3 ? 0.9999 : 1);
      assertClose(s.l1, 2 * height, 1e-9, `${what}: l1`);
      assertClose(s.l2, Math.SQRT2 * height, 1e-9, `${what}: l2`);
      assertClose(s.sparsity, Math.SQRT2, 1e-9, `${what}: sparsity`);
    }
  }
  // DC sits in radial bin 0 and has no direction: adding a constant moves radial mass, not angular.
  const s = summarizeSpectrum(planeWave(32, 32, 3, 4).add(1));
  assertClose(s.radial.select(1, 0), 1024 ** 2 / (1024 ** 2 + 2 * 512 ** 2), 1e-9, "DC share");
  assertClose(s.angular, oneHot(18, 3), 1e-9, "angular without DC");
}));

test("centred spectrum: DC at (H//2, W//2); equals a float64 direct DFT of the luminance, odd sizes included", () => tidy(() => {
  const [H, W] = [5, 6];
  const x = f64([2, 3, H, W], 11);
  const lum = values(luminance(x));
  const rgb = values(x);
  for (let n = 0; n < 2; n++) for (let p = 0; p < H * W; p++) {
    const want = 0.2989 * rgb[(n * 3) * H * W + p]! + 0.587 * rgb[(n * 3 + 1) * H * W + p]! + 0.114 * rgb[(n * 3 + 2) * H * W + p]!;
    assertClose(lum[n * H * W + p]!, want, 1e-12, "luminance");
  }
  const F = centredSpectrum(x);
  assert.deepEqual(F.shape, [2, H, W]);
  const got = values(torch.viewAsReal(F));
  for (let n = 0; n < 2; n++) {
    // Centred index (a, b) holds frequency (a − H//2, b − W//2).
    for (let a = 0; a < H; a++) for (let b = 0; b < W; b++) {
      const [fu, fv] = [a - Math.floor(H / 2), b - Math.floor(W / 2)];
      let re = 0, im = 0;
      for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
        const phase = -2 * Math.PI * ((fu * i) / H + (fv * j) / W);
        re += lum[n * H * W + i * W + j]! * Math.cos(phase);
        im += lum[n * H * W + i * W + j]! * Math.sin(phase);
      }
      const k = ((n * H + a) * W + b) * 2;
      assertClose([got[k]!, got[k + 1]!], [re, im], 1e-10, `example ${n}, frequency (${fu}, ${fv})`);
    }
  }
  // A constant image is pure DC: one coefficient HW·c at the centre.
  const dc = values(centredSpectrum(torch.full([1, 1, 7, 4], 0.5, { dtype: "float64" })).abs());
  assertClose(dc, oneHot(28, 3 * 4 + 2).map((v) => v * 28 * 0.5), 1e-12);
  // A unit spike at the origin has a flat spectrum.
  const spike = torch.zeros([1, 1, 8, 8], { dtype: "float64" });
  spike.narrow(2, 0, 1).narrow(3, 0, 1).fill_(1);
  assertClose(centredSpectrum(spike).abs(), new Array(64).fill(1), 1e-12);
  // Channels mode keeps the channel axis.
  assert.deepEqual(centredSpectrum(x, { mode: "channels" }).shape, [2, 3, H, W]);
}));

test("Parseval with norm 'ortho': ‖F‖₂ = ‖x‖₂ per example, luminance and channels", () => tidy(() => {
  const x = f64([3, 3, 16, 12], 12);
  const ortho = summarizeSpectrum(x, { norm: "ortho" });
  assertClose(ortho.l2, values(luminance(x).square().sum([1, 2]).sqrt()), 1e-12);
  const channels = summarizeSpectrum(x, { mode: "channels", norm: "ortho" });
  assertClose(channels.l2, values(x.square().sum([1, 2, 3]).sqrt()), 1e-12);
  // Backward (numpy) scales every coefficient by √(HW) relative to ortho.
  const backward = summarizeSpectrum(x, { mode: "channels" });
  assertClose(backward.l2, values(channels.l2.mul(Math.sqrt(16 * 12))), 1e-12);
  assertClose(backward.l1, values(channels.l1.mul(Math.sqrt(16 * 12))), 1e-12);
  // Scale-free quantities do not depend on the norm; rows of the marginals sum to 1.
  for (const k of ["sparsity", "centroid", "hf8", "hf12", "radial", "angular"] as const) assertClose(backward[k], values(channels[k]), 1e-10, k);
  assertClose(backward.radial.sum(1), [1, 1, 1], 1e-12);
  assertClose(backward.angular.sum(1), [1, 1, 1], 1e-12);
  assert.deepEqual(backward.radial.shape, [3, radialBinCount(16, 12)]);
}));

test("paper A's scale: a random ±8/255 sign perturbation has ‖δ̂‖₂ ≈ 21.5 and ‖δ̂‖₁ ≈ 609 (SCIENCE §1.8)", () => tidy(() => {
  const g = new torch.Generator(5);
  const delta = torch.randint(0, 2, [32, 3, 32, 32], { generator: g, dtype: "float32" }).mul(2).sub(1).mul(8 / 255);
  g.dispose();
  const s = summarizeSpectrum(delta);
  const [l2, l1] = [s.l2.mean().item(), s.l1.mean().item()];
  assert.ok(Math.abs(l2 / 21.5 - 1) < 0.02, `mean ‖δ̂‖₂ = ${l2}`);
  assert.ok(Math.abs(l1 / 609 - 1) < 0.02, `mean ‖δ̂‖₁ = ${l1}`);
  // White noise: energy spread evenly, so the centroid is the mean radius of the grid and most energy is beyond r = 8.
  assert.ok(s.hf8.min().item() > 0.6, `hf8 ${s.hf8.min().item()}`);
  assert.equal(s.l2.dtype, "float32");
  assert.equal(s.l2.device, "cpu");
}));

test("meanSpectrum averages energy and magnitude over examples; log of the mean magnitude", () => tidy(() => {
  const x = torch.cat([planeWave(8, 8, 1, 2), planeWave(8, 8, 0, 3).mul(3)]);
  const { energy, magnitude, logMagnitude } = meanSpectrum(x);
  assert.deepEqual(energy.shape, [8, 8]);
  const F = centredSpectrum(x).abs();
  assertClose(energy, values(F.square().mean(0)), 1e-12);
  assertClose(magnitude, values(F.mean(0)), 1e-12);
  assertClose(logMagnitude.select(0, 5).select(0, 6), Math.log(32 / 2), 1e-12, "spike of example 0 at (1, 2)");
  assertClose(logMagnitude.select(0, 4).select(0, 7), Math.log((3 * 32) / 2), 1e-12, "spike of example 1 at (0, 3)");
  assert.ok(values(meanSpectrum(torch.zeros([1, 1, 4, 4])).logMagnitude).every((v) => v === -Infinity), "log 0 where nothing has energy");
  // Channels mode: energy summed over channels, so three equal channels triple it.
  const three = meanSpectrum(x.expand(2, 3, 8, 8), { mode: "channels" });
  assertClose(three.energy, values(energy.mul(3)), 1e-12);
}));

test("bad inputs are refused with clear errors; tensors are released", () => {
  const before = torch.memory().tensors;
  tidy(() => {
    assert.throws(() => luminance(torch.zeros([3, 32, 32])), { name: "RangeError", message: /\[N, C, H, W\].*\[3, 32, 32\]/ });
    assert.throws(() => luminance(torch.zeros([1, 2, 8, 8])), { name: "RangeError", message: /1 \(grayscale\) or 3 \(RGB\) channels, got 2/ });
    assert.throws(() => summarizeSpectrum(torch.zeros([1, 3, 0, 8])), RangeError);
    assert.throws(() => summarizeSpectrum(torch.zeros([1, 3, 8, 8]), { mode: "rgb" as never }), { name: "RangeError", message: /mode/ });
    assert.throws(() => centredSpectrum(torch.zeros([1, 3, 8, 8]), { norm: "forward" as never }), { name: "RangeError", message: /norm/ });
    assert.throws(() => meanSpectrum(torch.zeros([0, 1, 8, 8])), { name: "RangeError", message: /no examples/ });
    assert.throws(() => summarizeSpectrum(torch.zeros([1, 1, 8, 8], { dtype: "uint8" })), TypeError);
    assert.throws(() => radialBinCount(0, 8), RangeError);
    // Channels mode takes any channel count.
    assert.deepEqual(summarizeSpectrum(torch.rand([2, 2, 8, 8]), { mode: "channels" }).angular.shape, [2, 18]);
  });
  assert.deepEqual([radialBinCount(32, 32), radialBinCount(28, 28), radialBinCount(1, 1)], [23, 20, 1]);
  assert.deepEqual(analysis.angularBinCentres().slice(0, 3), [5, 15, 25]);
  const x = torch.rand([4, 3, 32, 32]);
  const s = summarizeSpectrum(x);
  assert.equal(torch.memory().tensors, before + 1 + Object.keys(s).length, "only the input and the 8 results are alive");
  torch.dispose([x, s]);
  assert.equal(torch.memory().tensors, before);
});
