// The attack-set job writes each batch's results as they come. Its file must be, byte for byte,
// the one it wrote when it held the whole result (built here from attackBatches' result and
// serialized at once), and its summary the same values, whatever the batch size.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { attackBatches } from "../src/attacks/batch.js";
import { attackEpsilons, createAttack } from "../src/attacks/registry.js";
import { torch } from "../src/index.js";
import { AttackModel } from "../src/nn/attack-model.js";
import type { JobContext } from "../src/studies/graph.js";
import { type AttackSetInputs, type AttackSetSummary, sourceExamples } from "../src/studies/kinds/attack-set.js";
import { jobKind } from "../src/studies/kinds/index.js";
import { RunDir } from "../src/store/run.js";
import { findCheckpoint, loadCheckpointModel, readRunConfig } from "../src/train/run-model.js";
import { trainRun } from "../src/train/run.js";
import { readJson } from "../src/util/json.js";

const root = mkdtempSync(join(tmpdir(), "advdyn-attack-set-"));
after(() => rmSync(root, { recursive: true, force: true }));
before(() => {
  trainRun(join(root, "runs/f"), {
    model: { name: "fc", options: { width: 32, activation: "relu" } },
    dataset: { name: "fourier-classes", options: { fourierClasses: { classes: 4, size: 8, channels: 1, train: 128, test: 64, amplitude: 0.2 } } },
    epochs: 1, batchSize: 32, seed: 0,
  }, { progress: false });
});

/** The file's bytes and the summary's statistics as the job made them from the whole result in memory. */
function whole(i: AttackSetInputs): { bytes: Buffer; stats: Partial<AttackSetSummary> } {
  const run = new RunDir(join(root, "runs/f"));
  const config = readRunConfig(run);
  const c = findCheckpoint(run, i.checkpoint);
  const data = sourceExamples(run, config, { run: "runs/f", split: i.split, examples: i.examples, base: i.base ?? "data", seed: i.seed });
  const module = loadCheckpointModel(run, config, c);
  const attack = createAttack(i.attack);
  const epsilons = attackEpsilons(i.attack);
  const r = attackBatches(new AttackModel(module), attack, data.images, data.labels, { epsilons, batchSize: i.batchSize, seed: i.seed, targets: i.targets, classes: data.classes });
  const mean = (t: torch.Tensor) => torch.tidy(() => t.to("float64").mean().item());
  try {
    return torch.tidy(() => ({
      bytes: Buffer.concat(torch.serializeSafetensors(new Map<string, torch.Tensor>([
        ...epsilons.map((_, k) => [`delta.${k}`, r.delta[k]!] as const),
        ["success", r.success.T.contiguous()], ["success_on_correct", r.successOnCorrect.T.contiguous()], ["clean_correct", r.cleanCorrect],
        ["labels", data.labels], ["adversarial_class", r.adversarialClass.T.contiguous()], ["logits", r.logits.transpose(0, 1).contiguous()],
        ...Object.entries(r.norms).map(([name, t]) => [`norm_${name}`, (t as torch.Tensor).T.contiguous()] as const),
        ...(r.targets ? [["targets", r.targets] as const] : []),
      ]), { checkpoint: c.file, attack: attack.name })),
      stats: {
        cleanAccuracy: mean(r.cleanCorrect),
        perEpsilon: epsilons.map((epsilon, k) => ({
          epsilon, successRate: mean(r.success.select(0, k)), successOnCorrectRate: mean(r.successOnCorrect.select(0, k)),
          meanL2: mean(r.norms.l2.select(0, k)), meanLinf: mean(r.norms.linf.select(0, k)),
        })),
      },
    }));
  } finally {
    torch.dispose([r, data]);
    module.dispose();
  }
}

const attack = { attack: "paper-b-pgd", norm: "l2", eps: [0.5, 2], options: { steps: 2 } } as const;
const cases: [string, AttackSetInputs][] = [
  ...[50, 25, 16, 7].map((batchSize): [string, AttackSetInputs] => [`test split, batches of ${batchSize}`,
    { key: "a", attack, checkpoint: "best", split: "test", examples: 50, batchSize, targets: "random", seed: 3 }]),
  ["uniform noise, batches of 16", { key: "a", attack, checkpoint: "best", split: "train", examples: 40, batchSize: 16, targets: "random", seed: 5, base: "uniform" }],
  ["untargeted, batches of 32", { key: "a", attack: { ...attack, attack: "pgd" }, checkpoint: "best", split: "test", examples: 50, batchSize: 32, targets: "none", seed: 0 }],
];

for (const [name, inputs] of cases) {
  test(`attack-set streams the file the whole result gave, byte for byte, and the same summary: ${name}`, () => {
    const id = `sets/${name.replace(/\W+/g, "-")}`;
    const spec = { id, kind: "attack-set", tags: {}, inputs, deps: { run: "runs/f" } };
    jobKind("attack-set").run({ root, progress: false, log: () => {}, spec, key: id, dir: join(root, id), deps: { run: { dir: join(root, "runs/f") } } } as unknown as JobContext);
    const expected = whole(inputs);
    assert.ok(readFileSync(join(root, id, "attack.safetensors")).equals(expected.bytes));
    const summary = readJson<AttackSetSummary>(join(root, id, "summary.json"))!;
    assert.deepEqual({ cleanAccuracy: summary.cleanAccuracy, perEpsilon: summary.perEpsilon }, expected.stats);
  });
}
