// `npm run validate -- train --data-dir DIR`: trains paper A's 13 models (SCIENCE §1.6, Table 4)
// for a few epochs on a real dataset folder and prints their test accuracy beside the paper's.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { CheckpointIndex } from "../src/store/run.js";

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
  options: { "data-dir": { type: "string" }, dataset: { type: "string" }, epochs: { type: "string" }, out: { type: "string" }, only: { type: "string" } },
  allowPositionals: true,
});
if (positionals[0] !== "train" || !values["data-dir"]) {
  console.error("usage: npm run validate -- train --data-dir DIR [--dataset cifar10] [--epochs 3] [--out DIR] [--only SUBSTRING]");
  process.exit(2);
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
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
for (const r of [header, widths.map((w) => "-".repeat(w)), ...rows]) console.log(`| ${r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`);
console.log(`runs in ${out}`);
