import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createAttack } from "../src/attacks/registry.js";
import { DataLoader } from "../src/data/index.js";
import { nn, optim, torch } from "../src/index.js";
import { AttackModel } from "../src/nn/attack-model.js";
import { RunDir } from "../src/store/run.js";
import { trainingAttack } from "../src/train/run.js";
import { adversarialBatch, train } from "../src/train/trainer.js";
import { assertClose, values } from "./helpers.js";

// A two-class linear model z = Wx + b under L∞ ε: the worst case moves every pixel by ε against
// w_y − w_other, so the robust loss is the clean one at margin m − ε‖w₁ − w₀‖₁ (inputs kept
// farther than ε from the box's edges, so clipping to [0, 1] never binds).
test("adversarial training of a linear model: the trainer's loss is the clean loss at margin m − ε‖w₁ − w₀‖₁", () => {
  const eps = 0.05;
  for (const seed of [0, 1, 2]) {
    const g = new torch.Generator(seed);
    const model = new nn.Linear(20, 2, { generator: g });
    const x = torch.rand([64, 20], { generator: g }).mul(0.6).add(0.2);
    const y = torch.randint(0, 2, [64], { generator: g });
    const w = values(model.stateDict().get("weight")!);
    const dw = w.slice(20).map((v, i) => v - w[i]!);
    const l1 = dw.reduce((a, v) => a + Math.abs(v), 0);
    const z = values(torch.noGrad(() => model.forward(x)));
    const labels = values(y);
    const robust = labels.map((c, n) => {
      const margin = (c === 1 ? 1 : -1) * (z[2 * n + 1]! - z[2 * n]!);
      return Math.log1p(Math.exp(-(margin - eps * l1)));
    });
    const attack = { attack: createAttack(trainingAttack("pgd", "linf", eps)), epsilon: eps };
    // The inner maximisation reaches the corner x ∓ ε·sign(w₁ − w₀) exactly.
    const am = new AttackModel(model);
    const xa = values(adversarialBatch(am, attack, x, y, 7));
    const xs = values(x);
    const corner = xs.map((v, i) => v - eps * (labels[Math.floor(i / 20)] === 1 ? 1 : -1) * Math.sign(dw[i % 20]!));
    assertClose(xa, corner, 1e-6, `seed ${seed}: adversarial inputs`);
    // The trainer's recorded epoch loss, at a learning rate too small to move the weights.
    const out = mkdtempSync(join(tmpdir(), "advdyn-at-linear-"));
    const run = new RunDir(out);
    run.open({ test: "at-linear", seed });
    const set = { images: x, labels: y, classes: 2, name: "linear" };
    const loader = (shuffle: boolean) => new DataLoader(set, { batchSize: 16, shuffle, seed });
    const optimizer = new optim.SGD(model.parameters(), { lr: 1e-30 });
    const index = train(model, { train: loader(true), trainEval: loader(false), test: loader(false) }, run, {
      epochs: 1, seed, optimizer, schedule: new optim.Schedule("constant", 1e-30), progress: false,
      adversarial: { ...attack, robust: loader(false) },
    });
    const epoch1 = index.checkpoints.find((c) => c.epoch === 1)!;
    assertClose(epoch1.trainLoss, robust.reduce((a, b) => a + b, 0) / robust.length, 1e-5, `seed ${seed}: robust training loss`);
    // Robust accuracy: the examples whose margin exceeds ε‖w₁ − w₀‖₁.
    const expected = labels.filter((c, n) => (c === 1 ? 1 : -1) * (z[2 * n + 1]! - z[2 * n]!) > eps * l1).length / labels.length;
    assert.equal(epoch1.robustAccuracy, expected, `seed ${seed}: robust accuracy`);
    torch.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
    g.dispose();
  }
});

test("Attack.adversarial is run()'s clipped output without the bookkeeping: PGD, FGSM and a minimal-norm attack, same seed", () => {
  const g = new torch.Generator(4);
  const model = new nn.Sequential(new nn.Linear(12, 16, { generator: g }), new nn.ReLU(), new nn.Linear(16, 3, { generator: g }));
  const am = new AttackModel(model);
  const x = torch.rand([20, 12], { generator: g });
  const y = torch.randint(0, 3, [20], { generator: g });
  for (const ref of [trainingAttack("pgd", "linf", 0.1), trainingAttack("fgsm", "linf", 0.05), { attack: "ddn", norm: "l2" as const, eps: 0.5, options: { steps: 10 } }]) {
    const attack = createAttack(ref);
    torch.tidy(() => {
      const fast = values(attack.adversarial(am, x, y, ref.eps as number, 3));
      const full = values(attack.run(am, x, y, { epsilons: ref.eps as number, seed: 3 }).clipped[0]!);
      assert.deepEqual(fast, full, ref.attack);
    });
  }
  assert.throws(() => createAttack(trainingAttack("pgd", "linf", 0.1)).adversarial(am, x.add(2), y, 0.1, 0), /within the model's bounds/);
  torch.dispose([x, y]);
  model.dispose();
  g.dispose();
});
