// `npm run validate -- train --data-dir DIR`: trains paper A's 13 models (v1 Table 4)
// for a few epochs on a real dataset folder and prints their test accuracy beside the paper's.
// `npm run validate -- ifr --data-dir DIR`: the ifr study at a reduced scale on the real images,
// its Tables 1/2 beside the paper's, and whether paper A's orderings (v1 Tables 1 and 2) hold.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { CheckpointIndex } from "../src/store/run.js";
import { table } from "../src/cli/table.js";

const MODELS: [string, string[], number][] = [
  ["Fully Connected (Linear)", ["--model", "fc", "--activation", "linear"], 41],
  ["Locally Connected (Linear)", ["--model", "lc", "--activation", "linear"], 35],
  ["Full Width Convolution (Linear)", ["--model", "fwconv", "--activation", "linear"], 41],
  ["Bounded Width Convolution (Linear)", ["--model", "bwconv", "--channels", "32", "--activation", "linear"], 41],
  ["Deep Fully Connected (Linear)", ["--model", "fc", "--depth", "3", "--activation", "linear"], 41],
  ["Deep Full Width Convolution (Linear)", ["--model", "fwconv", "--depth", "3", "--activation", "linear"], 36],
  ["Deep Bounded Width Convolution (Linear)", ["--model", "bwconv", "--channels", "32", "--depth", "3", "--activation", "linear"], 41],
  ["Fully Connected (NonLinear)", ["--model", "fc", "--activation", "relu"], 52],
  ["Locally Connected (NonLinear)", ["--model", "lc", "--activation", "relu"], 54],
  ["Bounded Width Convolution (NonLinear)", ["--model", "bwconv", "--channels", "32", "--activation", "relu"], 63],
  ["Shallow ResNet (NonLinear)", ["--model", "shallow-resnet"], 64],
  ["VGG19", ["--model", "vgg19"], 91],
  ["ResNet18", ["--model", "resnet18"], 92],
];

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: {
    "data-dir": { type: "string" }, dataset: { type: "string" }, epochs: { type: "string" }, out: { type: "string" }, only: { type: "string" },
    "attack-steps": { type: "string" }, "attack-examples": { type: "string" }, all: { type: "boolean" },
  },
  allowPositionals: true,
});
if (!["train", "ifr"].includes(positionals[0] ?? "") || !values["data-dir"]) {
  console.error(`usage: npm run validate -- train --data-dir DIR [--dataset cifar10] [--epochs 3] [--out DIR] [--only SUBSTRING]
       npm run validate -- ifr --data-dir DIR [--dataset cifar10] [--epochs 5] [--attack-steps 100] [--attack-examples 500] [--all (with VGG19, ResNet18)] [--out DIR]`);
  process.exit(2);
}
if (positionals[0] === "ifr") {
  await validateIfr();
  process.exit(0);
}
const epochs = values.epochs ?? "3";
const out = values.out ?? mkdtempSync(join(tmpdir(), "advdyn-validate-"));
const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const rows: string[][] = [];
for (const [label, args, paper] of MODELS.filter(([l]) => !values.only || l.toLowerCase().includes(values.only.toLowerCase()))) {
  const run = join(out, label.replace(/\W+/g, "-").toLowerCase());
  const began = performance.now();
  const r = spawnSync(process.execPath, [cli, "train", ...args, "--dataset", values.dataset ?? "cifar10", "--data-dir", values["data-dir"], "--epochs", epochs, "--out", run, "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) {
    rows.push([label, `failed (exit ${r.status})`, "", `${paper}%`, ""]);
    continue;
  }
  const index = JSON.parse(r.stdout) as CheckpointIndex;
  const best = index.checkpoints.find((c) => c.file === index.best)!;
  rows.push([label, `${(best.testAccuracy * 100).toFixed(1)}%`, String(best.epoch), `${paper}%`, `${((performance.now() - began) / 1000).toFixed(0)} s`]);
  console.error(`${label}: best test accuracy ${(best.testAccuracy * 100).toFixed(1)}% at epoch ${best.epoch}`);
}
const header = ["model", `test acc (best of ${epochs} epochs)`, "epoch", "paper (40+ epochs, full CIFAR-10)", "time"];
console.log(table(header, rows));
console.log(`runs in ${out}`);

/** Paper A's orderings (v1 Tables 1, 2) on our means: each claim with our numbers and whether it holds. */
async function validateIfr(): Promise<void> {
  const { runStudyArgs } = await import("../src/cli/study.js");
  const models = (await import("../src/studies/catalog.js")).studySpec("ifr", { scale: "paper" }).models.map((m) => m.key);
  const result = await runStudyArgs({
    study: "ifr", scale: "paper", dataset: (values.dataset ?? "cifar10") as "cifar10", dataDir: values["data-dir"]!,
    out: values.out ?? mkdtempSync(join(tmpdir(), "advdyn-validate-ifr-")), device: "cpu", json: false,
    models: values.all ? models : models.filter((m) => m !== "vgg19" && m !== "resnet18"),
    epochs: Number(values.epochs ?? 5), attackSteps: Number(values["attack-steps"] ?? 100), attackExamples: Number(values["attack-examples"] ?? 500),
  });
  const mean = (table: string, model: string, quantity: string): number => {
    const t = result.tables.find((x) => x.table.id === table)!;
    const i = t.table.rows.findIndex((r) => r.model === model);
    const j = t.table.columns.findIndex((c) => c.quantity === quantity);
    return i < 0 || j < 0 ? NaN : t.cells[i]![j]?.mean ?? NaN;
  };
  const claims: [string, string, string, string[]][] = [
    ["table1", "beta_hat_l1", "‖β̂‖₁: deep FWC < FWC < FC ≈ deep FC < BWC", ["fwconv-deep-linear", "fwconv-linear", "fc-linear", "bwconv-linear"]],
    // The scale-free version (β normalised to ‖β‖₂ = 1): the raw norm also measures each model's scale.
    ["table1", "beta_hat_unit_l1", "‖β̂‖₁ of unit β: deep FWC < FWC < FC < BWC", ["fwconv-deep-linear", "fwconv-linear", "fc-linear", "bwconv-linear"]],
    ["table1", "delta_hat_l1", "‖δ̂‖₁ (linear): deep FWC < FWC < FC < BWC", ["fwconv-deep-linear", "fwconv-linear", "fc-linear", "bwconv-linear"]],
    ["table2", "delta_hat_l1", "‖δ̂‖₁ (ReLU): FWC < FC < BWC", ["fwconv-relu", "fc-relu", "bwconv-relu"]],
  ];
  console.log("\npaper A's orderings (v1 Tables 1, 2) on our means:");
  for (const [table, q, claim, order] of claims) {
    const v = order.map((m) => mean(table, m, q));
    const holds = v.every((x, i) => i === 0 || v[i - 1]! < x);
    console.log(`  ${holds ? "holds" : "does NOT hold"}: ${claim} — ${order.map((m, i) => `${m} ${v[i]!.toFixed(1)}`).join(", ")}`);
  }
  const fc = mean("table1", "fc-linear", "beta_hat_l1");
  const deep = mean("table1", "fc-deep-linear", "beta_hat_l1");
  console.log(`  FC vs deep FC ‖β̂‖₁ (no depth effect expected): ${fc.toFixed(1)} vs ${deep.toFixed(1)} (ratio ${(deep / fc).toFixed(2)})`);
}
