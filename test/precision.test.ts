// Mixed precision (`--precision bf16`): libtorch's autocast around forward passes, float32 out of
// them, float32 weights, gradients and optimizer state; runs that record it and train like their
// float32 twins; attacks that inherit it.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { nn, torch } from "../src/index.js";
import { AttackModel } from "../src/nn/attack-model.js";
import { RunDir } from "../src/store/run.js";
import { attackCheckpoints, attackKey } from "../src/studies/attack-run.js";
import { withPrecision } from "../src/studies/catalog.js";
import { perturbationLearningSpec, perturbationTheorySpec } from "../src/studies/paper-b.js";
import { type RunSettings, trainRun } from "../src/train/run.js";
import { readRunConfig } from "../src/train/run-model.js";

test("autocast: matmul and conv run in bfloat16 inside, the output comes back float32, weights and gradients stay float32", () => {
  for (const seed of [0, 1, 2]) {
    const g = new torch.Generator(seed);
    const model = new nn.Sequential(new nn.Conv2d(3, 8, 3, { padding: 1, generator: g }), new nn.ReLU(), new nn.Flatten(), new nn.Linear(8 * 8 * 8, 10, { generator: g }));
    torch.tidy(() => {
      const x = torch.rand([16, 3, 8, 8], { generator: g });
      const seen: string[] = [];
      const out = torch.autocast("bf16", x, () => {
        const h = model.forward(x);
        seen.push(h.dtype);
        return h;
      });
      assert.deepEqual(seen, ["bfloat16"]);
      assert.equal(out.dtype, "float32");
      const ref = model.forward(x);
      assert.equal(ref.dtype, "float32", "autocast is off again after the region");
      // bfloat16 keeps 8 bits of mantissa: about 2^-8 relative error per product, averaged over sums.
      const rel = out.sub(ref).abs().max().item() / ref.abs().max().item();
      assert.ok(rel > 0 && rel < 2e-2, `seed ${seed}: relative difference ${rel}`);
      out.square().mean().backward();
      for (const p of model.parameters()) assert.equal(p.grad!.dtype, "float32");
    });
    model.dispose();
  }
});

test("autocast is restored after a throw, passes fp32 through, and refuses float16 on the CPU by name", () => {
  torch.tidy(() => {
    const x = torch.randn([4, 4]);
    assert.throws(() => torch.autocast("bf16", x, () => { throw new Error("inside"); }), /inside/);
    assert.equal(x.matmul(x).dtype, "float32");
    let inner = "";
    torch.autocast("fp32", x, () => { const y = x.matmul(x); inner = y.dtype; return y; });
    assert.equal(inner, "float32");
    assert.throws(() => torch.autocast("fp16", x, () => x.matmul(x)), /autocasts CPU tensors to bfloat16 only; float16 needs a CUDA device/);
    assert.equal(x.matmul(x).dtype, "float32");
  });
  const settings: RunSettings = { model: { name: "fc", options: {} }, dataset: { name: "fourier-classes" }, epochs: 1, batchSize: 8, seed: 0, precision: "fp16" };
  assert.throws(() => trainRun(mkdtempSync(join(tmpdir(), "advdyn-fp16-")), settings), /precision fp16: libtorch autocasts CPU tensors to bfloat16 only/);
});

const small = (precision: "fp32" | "bf16", seed: number): RunSettings => ({
  model: { name: "bwconv", options: { channels: 8, activation: "relu" } },
  dataset: { name: "fourier-classes" }, trainExamples: 2000, testExamples: 500,
  epochs: 3, batchSize: 32, seed, precision, optim: { optimizer: "sgd", lr: 0.01, momentum: 0.9, nesterov: true, schedule: "constant" },
});

test("a bf16 run trains like its fp32 twin (3 seeds), records its precision, and attacks on it inherit it", async () => {
  for (const seed of [0, 1, 2]) {
    const runs = Object.fromEntries((["fp32", "bf16"] as const).map((p) => {
      const out = mkdtempSync(join(tmpdir(), `advdyn-${p}-`));
      trainRun(out, small(p, seed), { progress: false });
      return [p, new RunDir(out)];
    })) as Record<"fp32" | "bf16", RunDir>;
    assert.equal(readRunConfig(runs.bf16).precision, "bf16");
    assert.equal(readRunConfig(runs.fp32).precision, undefined, "fp32 runs keep the configuration they had before the setting existed");
    const [a, b] = [runs.fp32.index().checkpoints.at(-1)!, runs.bf16.index().checkpoints.at(-1)!];
    assert.ok(b.testAccuracy > 0.9, `seed ${seed}: bf16 test accuracy ${b.testAccuracy} (chance 0.1)`);
    assert.ok(Math.abs(a.testAccuracy - b.testAccuracy) <= 0.05, `seed ${seed}: fp32 ${a.testAccuracy} vs bf16 ${b.testAccuracy}`);
    assert.notEqual(a.trainLoss, b.trainLoss, "the forward passes did run in another precision");
    // Another precision is another run: the folder refuses it rather than mixing the two.
    assert.throws(() => trainRun(runs.bf16.path, small("fp32", seed), { progress: false }), /precision/);

    const attack = { attack: { attack: "pgd", norm: "linf" as const, eps: 8 / 255, options: { steps: 10 } }, examples: 128, split: "test" as const, targets: "none" as const, seed, batchSize: 128, progress: false };
    const last = [runs.bf16.index().checkpoints.at(-1)!];
    const inherited = (await attackCheckpoints(runs.bf16, last, attack)).summaries[0]!.perEpsilon[0]!;
    const asFp32 = (await attackCheckpoints(runs.bf16, last, { ...attack, precision: "fp32" })).summaries[0]!.perEpsilon[0]!;
    assert.notEqual(attackKey(attack), attackKey({ ...attack, precision: "fp32" }), "the precision is part of the attack's key");
    assert.ok(inherited.meanLinf <= 8 / 255 + 1e-6 && asFp32.meanLinf <= 8 / 255 + 1e-6);
    assert.ok(Math.abs(inherited.successRate - asFp32.successRate) <= 0.1, `seed ${seed}: success ${inherited.successRate} (bf16) vs ${asFp32.successRate} (fp32)`);
    assert.notDeepEqual(inherited, asFp32, "the inherited attack ran in bf16");
  }
});

test("an AttackModel in bf16 gives float32 logits and input gradients; --precision reaches every train job of a study", () => {
  const g = new torch.Generator(4);
  const module = new nn.Sequential(new nn.Flatten(), new nn.Linear(48, 5, { generator: g }));
  const model = new AttackModel(module, { precision: "bf16" });
  torch.tidy(() => {
    const x = torch.rand([6, 3, 4, 4], { generator: g });
    const { logits, grad } = model.valueAndGrad(x, (l) => l.logSoftmax(1).select(1, 0).neg());
    assert.equal(logits.dtype, "float32");
    assert.equal(grad.dtype, "float32");
    assert.deepEqual(grad.shape, x.shape);
  });
  module.dispose();
  const spec = withPrecision(perturbationLearningSpec({ scale: "smoke" }), "bf16");
  const trains = spec.jobs.filter((j) => j.kind === "train");
  assert.ok(trains.length > 1);
  for (const j of trains) assert.equal((j.inputs as { train: { precision?: string } }).train.precision, "bf16", j.id);
  assert.ok(spec.jobs.filter((j) => j.kind !== "train").every((j) => !JSON.stringify(j.inputs).includes("bf16")), "other jobs inherit it from their run");
  assert.throws(() => withPrecision(perturbationTheorySpec({ scale: "smoke" }), "bf16"), /study perturbation-theory has no train jobs/);
});
