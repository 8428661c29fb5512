// Training throughput of paper A's 13 models: advdyn against the same network in PyTorch from
// Python over the same libtorch (bench/peer_models.py), starting from the same weights on the same
// random CIFAR-shaped batch. One step is zero_grad, forward, cross-entropy, backward, SGD step
// (the paper's lr, momentum 0.9, weight decay 5e-4). Noise here is about ±15 %
// (measured here), so the stacks are timed interleaved, repetition by repetition,
// each as a warm, long-lived process, and every figure is a median.
//
// With --precision bf16 every column runs the forward pass under autocast to bfloat16 (PyTorch:
// torch.autocast("cpu", torch.bfloat16)), one more column is advdyn in float32, and the results go
// to models-bf16.json: bf16_vs_fp32_ratio is the speed-up of bfloat16 on this CPU.
//
//   node dist/bench/models.js [--only SUBSTRING[,SUBSTRING…]] [--reps N] [--precision fp32|bf16]
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { models, optim, torch } from "../src/index.js";
import { optimDefaults } from "../src/train/defaults.js";
import { writeFileAtomic } from "../src/util/atomic.js";
import { PAPER_A_MODELS } from "../src/studies/paper-a-models.js";
import { HANDOVER_MS, Peer, type Python, SAME_SETTINGS_ENV, TUNING, USER_ENV, findPython, median, paperBenchModel } from "./common.js";
import { table } from "../src/cli/table.js";

const F = torch.nn.functional;

const BATCH = 128;
const TARGET_RATIO = 1.0;
// Steps per repetition are chosen so that the slowest column's repetition lasts about this long:
// long enough to average out per-step jitter, short enough for 13 models × 3 columns × several
// repetitions to fit in about 10 minutes on 2 cores.
const REP_SECONDS = 1.5;
const MAX_STEPS = 40;
const WARMUP_STEPS = 2;
// Models slower than this per step get fewer repetitions (VGG19, ResNet18 take 1.5–3 s a step).
const SLOW_STEP_S = 0.5;
const REPS_FAST = 5;
const REPS_SLOW = 3;
// Share of the machine's CPU used by other processes during a model's repetitions above which its
// figures are flagged: on 2 cores, any sustained neighbour distorts them.
const CONTENDED = 0.05;

const repo = fileURLToPath(new URL("../../", import.meta.url));
const PEER_SCRIPT = join(repo, "bench", "peer_models.py");
const DEFAULT_OUT = join(repo, "bench", "results", "models.json");

/** Paper A's Table 4 models, as the studies and the validation build them, and the 32-channel bounded-width conv. */
const MODELS = PAPER_A_MODELS.filter((m) => m.paper.test_accuracy !== undefined || m.key === "bwconv-c32-linear").map((m) => paperBenchModel(m.key));

const COLUMNS = ["advdyn", "advdyn_fp32", "peer_user", "peer_same_settings"] as const;
type Column = (typeof COLUMNS)[number];
type PeerColumn = Exclude<Column, "advdyn" | "advdyn_fp32">;
const PEERS: readonly PeerColumn[] = ["peer_user", "peer_same_settings"];

const PEER_ENV: Record<PeerColumn, NodeJS.ProcessEnv> = {
  peer_user: USER_ENV,
  peer_same_settings: SAME_SETTINGS_ENV,
};

export interface BenchModelsOptions {
  /** Only the models whose key contains this, or one of its comma-separated parts (e.g. "fc", "vgg19,resnet18"). */
  only?: string;
  /** Repetitions per column for every model, instead of 5 (3 for slow models). */
  reps?: number;
  /** The JSON file; entries of models not measured this time are kept from it. */
  out?: string;
  /** Every column's forward pass (default fp32). */
  precision?: "fp32" | "bf16";
}


/**
 * Jiffies of the whole machine (busy, total) and of the given processes, from Linux's /proc; null
 * elsewhere. Busy time the benchmark's own processes did not use is contention.
 */
function cpuTicks(pids: readonly number[]): { busy: number; total: number; ours: number } | null {
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu as [number, number, number, number, number, number, number, number];
    const busy = user + nice + system + irq + softirq + steal;
    const ours = pids.reduce((sum, pid) => {
      // utime and stime are fields 14 and 15; the command name before them may contain spaces
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(")").pop()!.trim().split(/\s+/);
      return sum + Number(fields[11]) + Number(fields[12]);
    }, 0);
    return { busy, total: busy + idle + iowait, ours };
  } catch {
    return null;
  }
}


type PerColumn<T> = Partial<Record<Column, T>>;

interface Logits {
  max_abs_diff: number;
  max_abs_logit: number;
  /** Agreement to 1e-4 relative to the largest logit (at least 1). */
  agree: boolean;
}

export interface ModelResult {
  label: string;
  model: string;
  options: Readonly<Record<string, unknown>>;
  optimizer: { lr: number; momentum: number; weight_decay: number };
  date: string;
  load_average: { start: number; end: number };
  steps_per_rep: number;
  reps: number;
  images_per_s: PerColumn<number>;
  train_ratio_vs_user: number | null;
  train_ratio_same_settings: number | null;
  /** With --precision bf16: advdyn's bfloat16 step time / its float32 step time. */
  bf16_vs_fp32_ratio?: number;
  /** Seconds per step of every repetition, in the order taken. */
  samples_s: PerColumn<number[]>;
  /** Share of the machine's CPU time that other processes used during the repetitions (null without /proc). */
  foreign_cpu_share: number | null;
  logits: Logits | null;
}

const optimizerSpec = (o: ReturnType<typeof optimDefaults>) => ({ lr: o.lr, momentum: o.momentum, weight_decay: o.weightDecay });

async function benchModel(entry: (typeof MODELS)[number], py: Python | undefined, dir: string, reps: number | undefined, precision: "fp32" | "bf16"): Promise<ModelResult> {
  const load = loadavg()[0]!;
  const model = models.createModel(entry.name, { ...entry.options, seed: 0 });
  const info = models.modelInfo(model)!;
  const o = optimDefaults(entry.name, info.options);
  const weights = join(dir, `${entry.key}.weights.safetensors`);
  const inputs = join(dir, `${entry.key}.inputs.safetensors`);
  const g = new torch.Generator(1);
  const [x, y] = torch.tidy(() => [torch.rand([BATCH, 3, 32, 32], { generator: g }), torch.randint(0, 10, [BATCH], { generator: g })]);
  g.dispose();
  const opt = new optim.SGD(model.parameters(), { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay });
  const peers: Partial<Record<PeerColumn, Peer>> = {};
  try {
    model.save(weights);
    torch.tidy(() => {
      const logits = torch.noGrad(() => model.eval().forward(x));
      model.train();
      torch.saveSafetensors(inputs, { x, y, logits });
    });

    let logits: Logits | null = null;
    for (const column of PEERS) {
      if (!py) break;
      const check = column === "peer_user";
      const [peer, hello] = await Peer.start<Record<string, number>>(py, PEER_SCRIPT, PEER_ENV[column], {
        name: entry.name, options: info.options, weights, inputs, check, threads: torch.getNumThreads(), precision, ...optimizerSpec(o),
      }, `${column} (${entry.name})`);
      peers[column] = peer;
      if (check) {
        const { max_abs_diff, max_abs_logit } = hello as { max_abs_diff: number; max_abs_logit: number };
        logits = { max_abs_diff, max_abs_logit, agree: max_abs_diff <= 1e-4 * Math.max(1, max_abs_logit) };
      }
    }

    const step = (p: "fp32" | "bf16") => torch.tidy(() => {
      opt.zeroGrad();
      F.crossEntropy(torch.autocast(p, x, () => model.forward(x)), y).backward();
      opt.step();
    });
    const advdynSteps = (n: number, p: "fp32" | "bf16"): number => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) step(p);
      return (performance.now() - t0) / 1e3 / n;
    };
    const run = async (column: Column, n: number): Promise<number> => {
      const s = column === "advdyn" || column === "advdyn_fp32" ? advdynSteps(n, column === "advdyn" ? precision : "fp32")
        : await (await peers[column]!.request<{ seconds: number }>({ steps: n })).seconds;
      await sleep(HANDOVER_MS);
      return s;
    };
    const columns = COLUMNS.filter((c) => c === "advdyn" || (c === "advdyn_fp32" ? precision !== "fp32" : peers[c]));

    // The first step allocates and picks kernels; the last warm-up step sizes the repetitions.
    let slowest = 0;
    for (const c of columns) {
      for (let i = 0; i < WARMUP_STEPS - 1; i++) await run(c, 1);
      slowest = Math.max(slowest, await run(c, 1));
    }
    const steps = Math.max(1, Math.min(MAX_STEPS, Math.round(REP_SECONDS / slowest)));
    const n = reps ?? (slowest > SLOW_STEP_S ? REPS_SLOW : REPS_FAST);

    process.stderr.write(`${entry.label}: ${n} × ${steps} steps `);
    const samples: PerColumn<number[]> = Object.fromEntries(columns.map((c) => [c, []]));
    const pids = [process.pid, ...Object.values(peers).map((p) => p.pid)];
    const ticks0 = cpuTicks(pids);
    for (let r = 0; r < n; r++) {
      // rotating the order: no column always runs right after the same other one
      for (const c of [...columns.slice(r % columns.length), ...columns.slice(0, r % columns.length)]) samples[c]!.push(await run(c, steps));
      process.stderr.write(".");
    }
    const ticks1 = cpuTicks(pids);
    const foreign = ticks0 && ticks1 ? Math.max(0, (ticks1.busy - ticks0.busy - (ticks1.ours - ticks0.ours)) / (ticks1.total - ticks0.total)) : null;
    process.stderr.write(foreign !== null && foreign > CONTENDED ? ` other processes used ${(100 * foreign).toFixed(0)} % of the CPU: timings unreliable\n` : "\n");

    const seconds = Object.fromEntries(columns.map((c) => [c, median(samples[c]!)!])) as PerColumn<number>;
    const ratio = (p: PeerColumn) => (seconds[p] ? seconds.advdyn! / seconds[p] : null);
    return {
      label: entry.label, model: entry.name, options: info.options, optimizer: optimizerSpec(o),
      date: new Date().toISOString(), load_average: { start: load, end: loadavg()[0]! },
      steps_per_rep: steps, reps: n,
      images_per_s: Object.fromEntries(columns.map((c) => [c, BATCH / seconds[c]!])),
      train_ratio_vs_user: ratio("peer_user"), train_ratio_same_settings: ratio("peer_same_settings"),
      ...(seconds.advdyn_fp32 ? { bf16_vs_fp32_ratio: seconds.advdyn! / seconds.advdyn_fp32 } : {}),
      samples_s: samples, foreign_cpu_share: foreign, logits,
    };
  } finally {
    await Promise.all(Object.values(peers).map((p) => p.close()));
    opt.dispose();
    model.dispose();
    torch.dispose([x, y]);
  }
}

const fmt = (x: number | null | undefined, digits = 2) =>
  x == null ? "–" : Math.abs(x) >= 1000 ? Math.round(x).toLocaleString("en-US") : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(digits);

function printTable(results: Record<string, ModelResult>, bf16: boolean): void {
  const header = ["model", "advdyn img/s", "PyTorch as user", "PyTorch same settings", "ratio vs user", "ratio same settings", "target", ...(bf16 ? ["bf16 / fp32"] : []), "logits max |Δ|", "others' CPU"];
  const lines = Object.values(results).map((r) => {
    const [u, s] = [r.train_ratio_vs_user, r.train_ratio_same_settings];
    const met = u === null || s === null ? "" : Math.max(u, s) <= TARGET_RATIO ? " met" : " MISSED";
    const logits = r.logits ? `${r.logits.max_abs_diff.toExponential(1)}${r.logits.agree ? "" : " DIFFER"}` : "–";
    return [r.label, fmt(r.images_per_s.advdyn), fmt(r.images_per_s.peer_user), fmt(r.images_per_s.peer_same_settings), fmt(u), fmt(s), `≤ ${TARGET_RATIO}${met}`,
      ...(bf16 ? [fmt(r.bf16_vs_fp32_ratio)] : []), logits,
      r.foreign_cpu_share === null ? "–" : `${(100 * r.foreign_cpu_share).toFixed(0)} %${r.foreign_cpu_share > CONTENDED ? " UNRELIABLE" : ""}`];
  });
  console.log(table(header, lines));
}

/** The entries a partial run keeps; read before measuring, so that a damaged file stops the run at once. */
function previousModels(path: string): Record<string, ModelResult> {
  if (!existsSync(path)) return {};
  try {
    return (JSON.parse(readFileSync(path, "utf8")) as { models?: Record<string, ModelResult> }).models ?? {};
  } catch (e) {
    throw new Error(`${path}: cannot read the previous results (${(e as Error).message}); move it away to start afresh`);
  }
}

/** Measures the models, prints the table, writes the JSON (atomically) and returns what it wrote. */
export async function benchModels(opts: BenchModelsOptions = {}): Promise<Record<string, unknown>> {
  const started = Date.now();
  const parts = opts.only?.split(",").filter((p) => p !== "");
  const selected = MODELS.filter((m) => !parts?.length || parts.some((p) => m.key.includes(p)));
  if (selected.length === 0) throw new RangeError(`--only ${opts.only}: no model key contains it; keys: ${MODELS.map((m) => m.key).join(", ")}`);
  if (opts.reps !== undefined && !(Number.isSafeInteger(opts.reps) && opts.reps >= 1)) throw new RangeError(`reps must be a positive integer, got ${opts.reps}`);
  const load = loadavg()[0]!;
  if (load > 0.5) console.log(`notice: load average ${load.toFixed(2)}: other processes are running, expect more noise than usual`);
  const py = findPython();
  if (!py) console.log("notice: no Python with torch found ($PYTHON, python3, /usr/bin/python3): peer columns and the logits check skipped");
  else console.log(`peer: ${py.exe}, torch ${py.torch}; same initial weights on both sides (advdyn's, as safetensors)`);

  const precision = opts.precision ?? "fp32";
  if (precision !== "fp32" && precision !== "bf16") throw new RangeError(`--precision: fp32 or bf16 (CPU autocast), got ${precision}`);
  const out = opts.out ?? (precision === "fp32" ? DEFAULT_OUT : DEFAULT_OUT.replace(/\.json$/, `-${precision}.json`));
  const previous = previousModels(out);
  const measured: Record<string, ModelResult> = {};
  const dir = mkdtempSync(join(tmpdir(), "advdyn-bench-models-"));
  try {
    for (const m of selected) measured[m.key] = await benchModel(m, py, dir, opts.reps, precision);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`\nadvdyn vs PyTorch ${py?.torch ?? "(no peer)"} training (${precision}), batch ${BATCH}, ${torch.getNumThreads()} threads, ${cpus()[0]?.model} (${cpus().length} cores); median of interleaved reps`);
  printTable(measured, precision !== "fp32");
  const kept = Object.keys(previous).filter((k) => !(k in measured));
  if (kept.length) console.log(`${out} keeps the earlier figures of ${kept.join(", ")}`);
  console.log("ratios: advdyn time / PyTorch time, below 1 = advdyn faster; the target is met when both ratios are within it.");

  const results = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memory_gb: Math.round(totalmem() / 2 ** 30), load_average: { start: load, end: loadavg()[0] }, node: process.version },
    torch_version: py?.torch ?? null,
    peer_python: py?.exe ?? null,
    threads: torch.getNumThreads(),
    batch: BATCH,
    precision,
    target_ratio: TARGET_RATIO,
    peer_env: Object.fromEntries(PEERS.map((p) => [p, { threads: torch.getNumThreads(), ...Object.fromEntries(TUNING.map((k) => [k, PEER_ENV[p][k] ?? null])) }])),
    notes: {
      ratio: "advdyn time / PyTorch time per training step (below 1 = advdyn faster); *_vs_user: PyTorch as a user runs it " +
        "(set_num_threads, default environment); *_same_settings: PyTorch with advdyn's thread and allocator settings",
      precision: "bf16: the forward pass under autocast to bfloat16 on both sides, the loss in float32; bf16_vs_fp32_ratio = advdyn bf16 / advdyn fp32 step time",
      step: "zero_grad (set_to_none, as advdyn's zeroGrad), forward, cross-entropy, backward, SGD step with the paper's lr, momentum 0.9, " +
        "weight decay 5e-4; one fixed random batch (x uniform in [0, 1], labels uniform in 0..9); both sides start from advdyn's initial weights",
      peer: "bench/peer_models.py: the natural PyTorch implementation of each model. Full-width convolution: a direct 32×32 conv2d over a " +
        "circularly padded image, as paper A's code does (padded (0, 31) instead of the code's 16 per side, so the map is advdyn's 32×32 " +
        "with the same weights); advdyn computes it by FFT. Locally connected: unfold + einsum; advdyn: unfold + one batched matmul. " +
        "VGG19 with in-place ReLUs (torchvision's layout), ResNet18 as kuangliu/pytorch-cifar",
      logits: "first forward on the batch in eval mode (dropout off, BatchNorm on its initial running statistics), max |advdyn − PyTorch|; " +
        "agree = within 1e-4 × max(1, max |logit|)",
      timing: `warm-up ${WARMUP_STEPS} steps per column, then repetitions of the same number of steps, columns interleaved in a rotating ` +
        "order, each a long-lived process; figures are medians. foreign_cpu_share: the machine's CPU time other processes used meanwhile " +
        `(from /proc; above ${CONTENDED} the model's figures are unreliable)`,
    },
    models: { ...previous, ...measured },
    elapsed_s: (Date.now() - started) / 1e3,
  };
  mkdirSync(join(out, ".."), { recursive: true });
  writeFileAtomic(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${out} (${results.elapsed_s.toFixed(0)} s)`);
  return results;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { only: { type: "string" }, reps: { type: "string" }, precision: { type: "string" } } });
  await benchModels({ only: values.only, reps: values.reps === undefined ? undefined : Number(values.reps), precision: values.precision as "fp32" | "bf16" | undefined });
}
