// Adversarial training's cost: one Madry step (PGD L∞ with k = 10 steps of ε/4 from a random
// start, in eval mode with input gradients only, then a training step on the adversarial batch)
// against a standard training step, and against the same loop written in PyTorch from Python over
// the same libtorch (bench/peer_at.py), on the same weights and the same random CIFAR-shaped batch
// of 128. The bound: an AT step costs at most (k + 1.2)× a standard step. Columns are timed
// interleaved, each a warm, long-lived process, and every figure is a median.
//
//   node dist/bench/at.js [--only SUBSTRING] [--reps N]
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createAttack } from "../src/attacks/registry.js";
import { models, optim, torch } from "../src/index.js";
import { AttackModel } from "../src/nn/attack-model.js";
import { optimDefaults } from "../src/train/defaults.js";
import { trainingAttack } from "../src/train/run.js";
import { adversarialBatch } from "../src/train/trainer.js";
import { writeFileAtomic } from "../src/util/atomic.js";
import { table } from "../src/cli/table.js";
import { HANDOVER_MS, Peer, type Python, SAME_SETTINGS_ENV, USER_ENV, findPython, median, paperBenchModel } from "./common.js";

const F = torch.nn.functional;
const BATCH = 128;
const EPSILON = 8 / 255;
const K = 10;
const REL_STEPSIZE = 0.25;
const REPS = 5;
// Steps per repetition: about this many seconds of the slowest column.
const REP_SECONDS = 2;

const repo = fileURLToPath(new URL("../../", import.meta.url));
const PEER_SCRIPT = join(repo, "bench", "peer_at.py");
const DEFAULT_OUT = join(repo, "bench", "results", "at.json");

const CASES = ["fc-relu", "bwconv-relu"].map(paperBenchModel);
const COLUMNS = ["advdyn", "peer_user", "peer_same_settings"] as const;
type Column = (typeof COLUMNS)[number];
type PeerColumn = Exclude<Column, "advdyn">;
const PEER_ENV: Record<PeerColumn, NodeJS.ProcessEnv> = { peer_user: USER_ENV, peer_same_settings: SAME_SETTINGS_ENV };
type PerColumn<T> = Partial<Record<Column, T>>;

interface CaseResult {
  label: string;
  model: string;
  /** Seconds per step, median of the repetitions. */
  standard_step_s: PerColumn<number>;
  at_step_s: PerColumn<number>;
  /** AT step / standard step, per column: the bound is k + 1.2. */
  at_cost_ratio: PerColumn<number>;
  at_ratio_vs_user: number | null;
  at_ratio_same_settings: number | null;
  samples_s: { standard: PerColumn<number[]>; at: PerColumn<number[]> };
  load_average: { start: number; end: number };
}

async function benchCase(c: (typeof CASES)[number], py: Python | undefined, dir: string, reps: number): Promise<CaseResult> {
  const load = loadavg()[0]!;
  const model = models.createModel(c.name, { ...c.options, seed: 0 });
  const info = models.modelInfo(model)!;
  const o = optimDefaults(c.name, info.options);
  const weights = join(dir, `${c.key}.weights.safetensors`);
  const inputs = join(dir, `${c.key}.inputs.safetensors`);
  const g = new torch.Generator(1);
  const [x, y] = torch.tidy(() => [torch.rand([BATCH, 3, 32, 32], { generator: g }), torch.randint(0, 10, [BATCH], { generator: g })]);
  g.dispose();
  const opt = new optim.SGD(model.parameters(), { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay });
  const attack = { attack: createAttack(trainingAttack("pgd", "linf", EPSILON, { steps: K, relStepsize: REL_STEPSIZE })), epsilon: EPSILON };
  const target = new AttackModel(model);
  const peers: Partial<Record<PeerColumn, Peer>> = {};
  try {
    model.save(weights);
    torch.saveSafetensors(inputs, { x, y });
    for (const column of py ? (["peer_user", "peer_same_settings"] as const) : []) {
      [peers[column]] = await Peer.start(py!, PEER_SCRIPT, PEER_ENV[column], {
        name: c.name, options: info.options, weights, inputs, threads: torch.getNumThreads(),
        lr: o.lr, momentum: o.momentum, weight_decay: o.weightDecay, epsilon: EPSILON, steps: K, rel_stepsize: REL_STEPSIZE,
      }, `${column} (${c.name})`);
    }
    let seed = 0;
    // The trainer's step (train/trainer.ts) on a fixed batch.
    const step = (adversarial: boolean) => torch.tidy(() => {
      const input = adversarial ? adversarialBatch(target, attack, x, y, seed++) : x;
      opt.zeroGrad();
      F.crossEntropy(model.forward(input), y).backward();
      opt.step();
    });
    const run = async (column: Column, adversarial: boolean, n: number): Promise<number> => {
      let s: number;
      if (column === "advdyn") {
        const t0 = performance.now();
        for (let i = 0; i < n; i++) step(adversarial);
        s = (performance.now() - t0) / 1e3 / n;
      } else {
        s = (await peers[column]!.request<{ seconds: number }>({ steps: n, adversarial })).seconds;
      }
      await sleep(HANDOVER_MS);
      return s;
    };
    const columns = COLUMNS.filter((col) => col === "advdyn" || peers[col]);
    let slowest = 0;
    for (const col of columns) {
      await run(col, true, 1);
      slowest = Math.max(slowest, await run(col, true, 1));
    }
    const atSteps = Math.max(1, Math.round(REP_SECONDS / slowest));
    const standardSteps = atSteps * K;
    process.stderr.write(`${c.label}: ${reps} × (${standardSteps} standard + ${atSteps} AT steps) `);
    const samples = { standard: Object.fromEntries(columns.map((col) => [col, [] as number[]])), at: Object.fromEntries(columns.map((col) => [col, [] as number[]])) };
    for (let r = 0; r < reps; r++) {
      for (const col of [...columns.slice(r % columns.length), ...columns.slice(0, r % columns.length)]) {
        samples.standard[col]!.push(await run(col, false, standardSteps));
        samples.at[col]!.push(await run(col, true, atSteps));
      }
      process.stderr.write(".");
    }
    process.stderr.write("\n");
    const per = (which: "standard" | "at") => Object.fromEntries(columns.map((col) => [col, median(samples[which][col]!)!])) as PerColumn<number>;
    const [standard, at] = [per("standard"), per("at")];
    const ratio = (p: PeerColumn) => (at[p] ? at.advdyn! / at[p] : null);
    return {
      label: c.label, model: c.name, standard_step_s: standard, at_step_s: at,
      at_cost_ratio: Object.fromEntries(columns.map((col) => [col, at[col]! / standard[col]!])),
      at_ratio_vs_user: ratio("peer_user"), at_ratio_same_settings: ratio("peer_same_settings"),
      samples_s: samples, load_average: { start: load, end: loadavg()[0]! },
    };
  } finally {
    await Promise.all(Object.values(peers).map((p) => p.close()));
    opt.dispose();
    target.dispose();
    model.dispose();
    torch.dispose([x, y]);
  }
}

const { values } = parseArgs({ options: { only: { type: "string" }, reps: { type: "string" }, out: { type: "string" } } });
const selected = CASES.filter((c) => !values.only || c.key.includes(values.only));
if (selected.length === 0) throw new RangeError(`--only ${values.only}: no case key contains it; keys: ${CASES.map((c) => c.key).join(", ")}`);
const reps = Number(values.reps ?? REPS);
const py = findPython();
if (!py) console.log("notice: no Python with torch found ($PYTHON, python3, /usr/bin/python3): peer columns skipped");
const load = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), "advdyn-bench-at-"));
const measured: Record<string, CaseResult> = {};
try {
  for (const c of selected) measured[c.key] = await benchCase(c, py, dir, reps);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const fmt = (v: number | null | undefined) => (v == null ? "–" : v < 0.1 ? `${(v * 1e3).toFixed(1)} ms` : v.toFixed(2));
console.log(`\nAdversarial training step (PGD L∞ ε 8/255, ${K} steps of ε/4, random start; batch ${BATCH}) vs a standard step; advdyn vs PyTorch ${py?.torch ?? "(no peer)"}, ${torch.getNumThreads()} threads`);
console.log(table(["model", "standard step", "AT step", "AT/standard (≤ k + 1.2 = 11.2)", "PyTorch AT step (user)", "PyTorch AT/standard", "ratio vs user", "ratio same settings"],
  Object.values(measured).map((r) => [r.label, fmt(r.standard_step_s.advdyn), fmt(r.at_step_s.advdyn), fmt(r.at_cost_ratio.advdyn),
    fmt(r.at_step_s.peer_user), fmt(r.at_cost_ratio.peer_user), fmt(r.at_ratio_vs_user), fmt(r.at_ratio_same_settings)])));
console.log("ratios: advdyn time / peer time, below 1 = advdyn faster.");
const out = resolve(values.out ?? DEFAULT_OUT);
mkdirSync(join(out, ".."), { recursive: true });
writeFileAtomic(out, `${JSON.stringify({
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memory_gb: Math.round(totalmem() / 2 ** 30), load_average: { start: load, end: loadavg()[0] }, node: process.version },
  torch_version: py?.torch ?? null, threads: torch.getNumThreads(),
  setting: { batch: BATCH, epsilon: EPSILON, attack_steps: K, rel_stepsize: REL_STEPSIZE, random_start: true, cost_bound: K + 1.2 },
  peer_env: { peer_user: "PyTorch defaults", peer_same_settings: "advdyn's thread and allocator settings" },
  models: measured,
}, null, 2)}\n`);
console.log(`written: ${out}`);
