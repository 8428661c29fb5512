import assert from "node:assert/strict";
import { test } from "node:test";
import { analysis, torch } from "../src/index.js";
import { createModel, type HiddenStack } from "../src/models/index.js";
import type { Tensor } from "../src/torch/index.js";
import { assertClose, f64, values } from "./helpers.js";

const { tidy } = torch;
const { convSingularValues, layerSpectra } = analysis;

/**
 * The explicit (O·n²) × (C·n²) matrix of y[o,i,j] = Σ_{c,a,b} w[o,c,a,b] · x[c, (i+a−shift) mod n, (j+b−shift) mod n],
 * float64: shift 0 is the torus convolution, shift (k−1)/2 a Conv2d with circular padding.
 */
function circularMatrix(weight: Tensor, n: number, shift: number): Tensor {
  const [O, C, k] = weight.shape as [number, number, number];
  const w = values(weight);
  const m = new Float64Array(O * n * n * C * n * n);
  const mod = (v: number) => ((v % n) + n) % n;
  for (let o = 0; o < O; o++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const row = (o * n + i) * n + j;
    for (let c = 0; c < C; c++) for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
      const col = (c * n + mod(i + a - shift)) * n + mod(j + b - shift);
      m[row * C * n * n + col] += w[((o * C + c) * k + a) * k + b]!;
    }
  }
  return torch.tensor(m, { shape: [O * n * n, C * n * n] });
}

const svdvals = (m: Tensor) => values(torch.linalg.svdvals(m));

test("conv layers: Sedghi's singular values equal those of the explicit circular-convolution matrix", () => {
  // 2 → 3 channels, k = 3 with circular padding on 6×6: the layer is exactly a circular convolution.
  const bw = createModel("bwconv", { kernel: 3, channels: 3, padding: "circular", inputShape: [2, 6, 6], activation: "linear", bias: false, seed: 1 });
  const fw = createModel("fwconv", { channels: 2, inputShape: [3, 5, 5], activation: "linear", bias: false, seed: 2 });
  tidy(() => {
    for (const [m, n, shift, shape] of [[bw, 6, 1, [3, 2, 3, 3]], [fw, 5, 0, [2, 3, 5, 5]]] as const) {
      const spectra = layerSpectra(m, m === bw ? [2, 6, 6] : [3, 5, 5]);
      assert.deepEqual(spectra.map((s) => [s.name, s.kind]), [["hidden.0.weight", "conv"], ["linear.weight", "dense"]]);
      const weight = m.stateDict().get("hidden.0.weight")!;
      assert.deepEqual(weight.shape, shape);
      const M = circularMatrix(weight.double(), n, shift);
      // The matrix is the layer: it maps a random input to the layer's output.
      const x = f64([1, shape[1], n, n], 3);
      const layerOut = torch.noGrad(() => (m as HiddenStack).hidden.layers[0]!.forward(x.float()));
      assertClose(layerOut, values(M.matmul(x.flatten())), 1e-5, "explicit matrix = layer");
      const got = spectra[0]!.values;
      assert.equal(got.numel, Math.min(shape[0], shape[1]) * n * n);
      assertClose(got, svdvals(M).slice(0, got.numel), 1e-5, `conv ${n}×${n}`);
      assertClose(spectra[1]!.values, svdvals(m.stateDict().get("linear.weight")!), 1e-6, "dense = svdvals(weight)");
    }
  });
  bw.dispose();
  fw.dispose();
});

test("convSingularValues: kernels larger than the input wrap around; groups are block-diagonal", () => tidy(() => {
  const w = f64([2, 2, 5, 5], 4);
  assertClose(convSingularValues(w, 3, 3), svdvals(circularMatrix(w, 3, 0)).slice(0, 18), 1e-10, "5×5 kernel on 3×3");
  const g = f64([4, 1, 3, 3], 5);
  const perGroup = [0, 1].flatMap((k) => values(convSingularValues(g.narrow(0, 2 * k, 2), 4, 4)));
  assertClose(convSingularValues(g, 4, 4, 2), perGroup.sort((a, b) => b - a), 1e-10, "groups");
  assert.throws(() => convSingularValues(f64([3, 3], 1), 4, 4), RangeError);
}));

test("resnet18: every conv at its own input size (strided stages), dense readout; forward left as it was", () => {
  const m = createModel("resnet18", { width: 2, seed: 6 });
  tidy(() => {
    const spectra = layerSpectra(m, [3, 32, 32]);
    const byName = new Map(spectra.map((s) => [s.name, s]));
    const count = (name: string) => byName.get(name)!.values.numel;
    assert.equal(spectra.filter((s) => s.kind === "conv").length, 20, "17 3×3 convs + 3 shortcut convs");
    assert.equal(count("conv1.weight"), 2 * 32 * 32);
    assert.equal(count("layer2.0.conv1.weight"), 2 * 32 * 32, "stride-2 conv: its input is 32×32");
    assert.equal(count("layer2.0.conv2.weight"), 4 * 16 * 16);
    assert.equal(count("layer4.1.conv2.weight"), 16 * 4 * 4);
    assert.equal(byName.get("linear.weight")!.kind, "dense");
    assert.equal(count("linear.weight"), 10);
    for (const s of spectra) {
      const v = values(s.values);
      assert.ok(v.every((x, i) => x >= 0 && (i === 0 || x <= v[i - 1]!)), `${s.name}: descending, non-negative`);
    }
    assert.ok(!spectra.some((s) => s.name.includes("bn")), "norm layers skipped");
  });
  assert.ok(!Object.hasOwn(m.children()[0]![1], "forward"), "the conv's own forward is restored");
  assert.throws(() => layerSpectra(m, []), RangeError);
  m.dispose();
});
