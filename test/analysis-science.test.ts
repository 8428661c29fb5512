import assert from "node:assert/strict";
import { test } from "node:test";
import { analysis, data, models, optim, torch } from "../src/index.js";
import type { Module } from "../src/nn/index.js";
import { values } from "./helpers.js";

const F = torch.nn.functional;

/**
 * Paper A's implicit bias (SCIENCE §1.12): gradient descent on a linear full-width convolution
 * is biased towards a sparse β̂ (‖β̂‖₁ for one hidden layer), on a linear fully connected network
 * towards a small ‖β‖₂, which does not favour any Fourier basis. On fourier-classes, whose class
 * signal sits in a few Fourier modes under 1/f backgrounds, both fit the data, and the conv's β̂
 * ends up much sparser (‖β̂‖₁/‖β̂‖₂ measured ≈ 6 vs ≈ 17; both ≈ 28, white, at initialisation).
 */
test("a linear full-width conv learns a sparser β̂ than a linear fully connected net (fourier-classes)", (t) => {
  const load = (split: "train" | "test") =>
    data.loadDataset("fourier-classes", { split, fourierClasses: { train: 2000, test: 200 } });
  const train = load("train");
  const testSet = load("test");
  const [x, xt] = torch.tidy(() => [train.images.float().div(255), testSet.images.float().div(255)]);
  /** Paper A's SGD (momentum 0.9, weight decay 5e-4, its learning rates, batch 128) until the epoch's mean loss is below 0.1. */
  function fit(m: Module, lr: number): { epochs: number; accuracy: number } {
    const sgd = new optim.SGD(m.parameters(), { lr, momentum: 0.9, weightDecay: 5e-4 });
    using g = new torch.Generator(1);
    const n = x.shape[0]!;
    for (let epoch = 1; epoch <= 40; epoch++) {
      let loss = 0;
      torch.tidy(() => {
        const perm = torch.randperm(n, { generator: g });
        for (let s = 0; s < n; s += 128) {
          torch.tidy(() => {
            const idx = perm.narrow(0, s, Math.min(128, n - s));
            sgd.zeroGrad();
            const l = F.crossEntropy(m.forward(x.indexSelect(0, idx)), train.labels.indexSelect(0, idx));
            l.backward();
            sgd.step();
            loss += l.item() / Math.ceil(n / 128);
          });
        }
      });
      if (loss < 0.1) {
        const accuracy = torch.tidy(() => torch.noGrad(() => m.forward(xt).argmax(1).eq(testSet.labels).float().mean().item()));
        return { epochs: epoch, accuracy };
      }
    }
    assert.fail(`${m.constructor.name}: training loss still ≥ 0.1 after 40 epochs`);
  }
  /** ‖β̂_c‖₁/‖β̂_c‖₂ of every class (luminance, unnormalised DFT). */
  const sparsity = (m: Module): number[] => torch.tidy(() => values(analysis.summarizeSpectrum(analysis.linearPredictor(m, [3, 32, 32])).sparsity));
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

  const fc = models.createModel("fc", { width: 100, activation: "linear", seed: 0 });
  const conv = models.createModel("fwconv", { activation: "linear", seed: 0 });
  try {
    const atInit = [sparsity(fc), sparsity(conv)];
    for (const s of atInit) assert.ok(mean(s) > 25, `β̂ is white at initialisation: ${mean(s)}`);
    const fcFit = fit(fc, 0.01);
    const convFit = fit(conv, 0.002);
    for (const [name, f] of [["fc", fcFit], ["fwconv", convFit]] as const) assert.ok(f.accuracy > 0.9, `${name} test accuracy ${f.accuracy}`);
    const [sFc, sConv] = [sparsity(fc), sparsity(conv)];
    t.diagnostic(`‖β̂‖₁/‖β̂‖₂ mean over classes: fwconv ${mean(sConv).toFixed(2)} (${convFit.epochs} epochs, test accuracy ${convFit.accuracy}), ` +
      `fc ${mean(sFc).toFixed(2)} (${fcFit.epochs} epochs, ${fcFit.accuracy}); at initialisation ${mean(atInit[1]!).toFixed(2)} and ${mean(atInit[0]!).toFixed(2)}`);
    sConv.forEach((s, c) => assert.ok(s < sFc[c]!, `class ${c}: fwconv ${s} vs fc ${sFc[c]}`));
    assert.ok(mean(sConv) < 0.6 * mean(sFc), `mean sparsity: fwconv ${mean(sConv)} vs fc ${mean(sFc)} (epochs ${convFit.epochs}, ${fcFit.epochs})`);
  } finally {
    fc.dispose();
    conv.dispose();
    torch.dispose([train, testSet, x, xt]);
  }
});
