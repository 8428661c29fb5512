// The engine benchmark: advdyn against PyTorch from Python over the same libtorch (and, for the
// tiny-op cases, against libtorch called from C++). Noise between runs on this 2-core machine is
// about ±15 % (measured here), so the stacks are compared interleaved, repetition by
// repetition, and every figure is a median. Results go to bench/results/engine.json.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { optim, torch } from "../src/index.js";
import { writeFileAtomic } from "../src/util/atomic.js";
import { type Python, TUNING, USER_ENV, findPython, median } from "./common.js";
import { table } from "../src/cli/table.js";

type Tensor = torch.Tensor;
const F = torch.nn.functional;

const REPS = 7;
const BATCH = 128;
const LR = 0.01;
// Tiny ops per tidy() scope: about a training step's worth, so that the scope's cost is amortised
// as it is in real use.
const OPS_PER_STEP = 100;
const FFT_SHAPE = [10_000, 3, 32, 32];
const GEMM_N = 2048;
const GEMM_FLOPS = 2 * GEMM_N ** 3;
const THREADS = torch.getNumThreads();
const CORES = cpus().length;
const TARGETS = { dispatch: 0.5, train: 1.0 };

const repo = fileURLToPath(new URL("../../", import.meta.url));
const benchDir = join(repo, "bench");

const COLUMNS = ["advdyn", "peer_user", "peer_same_settings", "cpp"] as const;
type Column = (typeof COLUMNS)[number];
type PeerColumn = "peer_user" | "peer_same_settings";
type Values = Partial<Record<Column, number>>;

const PEER_ENV: Record<PeerColumn, NodeJS.ProcessEnv> = {
  peer_user: USER_ENV,
  // What the addon applies with mallopt at load, as environment; values the user set win, as in advdyn.
  peer_same_settings: { MALLOC_MMAP_MAX_: "0", MALLOC_TRIM_THRESHOLD_: String(2 ** 30), ...process.env },
};
const PEER_THREADS: Record<PeerColumn, number> = { peer_user: CORES, peer_same_settings: THREADS };

interface Case {
  /** Prefix of the case's keys in engine.json. */
  key: string;
  label: string;
  /** Steps timed per repetition, after `warmup` untimed ones (in every column). */
  iters: number;
  warmup: number;
  /** Case-specific fields of bench/peer_torch.py's spec. */
  spec: { case: string } & Record<string, unknown>;
  /** Builds advdyn's version inside the caller's tidy(); cleanup frees what tidy() does not own. */
  advdyn(): { step: () => void; cleanup?: () => void };
  /** The C++ baseline runs this case too. */
  cpp?: boolean;
  /** Per step, for throughput figures. */
  images?: number;
  flops?: number;
}


function libtorchFlags(what: "--cflags" | "--ldflags" | "--describe"): string {
  return execFileSync(process.execPath, [join(repo, "native/find-libtorch.mjs"), what], { encoding: "utf8" }).trim();
}

function buildCppBaseline(dir: string): string | undefined {
  const exe = join(dir, "native_baseline");
  try {
    execFileSync("g++", [
      ...libtorchFlags("--cflags").split(/\s+/), "-Wno-deprecated-declarations",
      join(benchDir, "native_baseline.cc"), "-o", exe, ...libtorchFlags("--ldflags").split(/\s+/),
    ], { stdio: ["ignore", "ignore", "pipe"] });
    return exe;
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? "").trim().split("\n").slice(-1)[0];
    console.log(`notice: cannot compile bench/native_baseline.cc (${stderr || (e as Error).message}); no C++ baseline, so no dispatch overhead`);
    return undefined;
  }
}

function timeSteps(step: () => void, iters: number, warmup: number): number {
  for (let i = 0; i < warmup; i++) step();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) step();
  return (performance.now() - t0) / 1e3 / iters;
}

function runAdvdyn(c: Case): number {
  return torch.tidy(() => {
    const { step, cleanup } = c.advdyn();
    try {
      return timeSteps(step, c.iters, c.warmup);
    } finally {
      cleanup?.();
    }
  });
}

function runPeer(py: Python, column: PeerColumn, c: Case): number {
  const spec = { ...c.spec, iters: c.iters, warmup: c.warmup, threads: PEER_THREADS[column], ops_per_step: OPS_PER_STEP };
  const out = execFileSync(py.exe, [join(benchDir, "peer_torch.py"), JSON.stringify(spec)], { env: PEER_ENV[column], encoding: "utf8" });
  return (JSON.parse(out) as { seconds: number }).seconds;
}

function runCpp(exe: string, c: Case): number {
  const out = execFileSync(exe, [c.spec.case, String(OPS_PER_STEP), String(c.iters), String(c.warmup)], { env: PEER_ENV.peer_same_settings, encoding: "utf8" });
  return Number(out);
}

// ---- cases ----

/** PyTorch's nn.Linear / nn.Conv2d initialisation: uniform in ±1/sqrt(fan_in). */
const uniform = (shape: number[], fanIn: number): Tensor =>
  torch.tidy(() => torch.rand(shape).sub(0.5).mul(2 / Math.sqrt(fanIn)));

function tinyCase(op: "add" | "matmul"): Case {
  const f: (a: Tensor, b: Tensor) => Tensor = op === "add" ? torch.add : torch.matmul;
  return {
    key: op, label: `${op} 8×8 (µs/op)`, iters: 1000, warmup: 100, spec: { case: op }, cpp: true,
    advdyn: () => {
      const a = torch.randn([8, 8]), b = torch.randn([8, 8]);
      return { step: () => torch.tidy(() => { for (let i = 0; i < OPS_PER_STEP; i++) f(a, b); }) };
    },
  };
}

function trainCase(model: "mlp" | "conv", label: string, init: Record<string, Tensor>, weights: string | undefined,
  forward: (p: Tensor[], x: Tensor) => Tensor, forwardFlopsPerImage: number): Case {
  return {
    key: `train_step_${model}`, label, iters: 10, warmup: 3,
    spec: { case: model, batch: BATCH, lr: LR, weights }, images: BATCH,
    // backward costs about twice the forward pass (input and weight gradients)
    flops: 3 * forwardFlopsPerImage * BATCH,
    advdyn: () => {
      const params = Object.values(init).map((t) => t.clone().requiresGrad_());
      const x = torch.randn([BATCH, 3, 32, 32]), y = torch.randint(0, 10, [BATCH]);
      const opt = new optim.SGD(params, { lr: LR, momentum: 0.9 });
      return {
        step: () => torch.tidy(() => {
          opt.zeroGrad();
          F.crossEntropy(forward(params, x), y).backward();
          opt.step();
        }),
        cleanup: () => opt.dispose(),
      };
    },
  };
}

const fft2Case: Case = {
  key: "fft2", label: `fft2 ${FFT_SHAPE.join("×")} (ms)`, iters: 3, warmup: 1, spec: { case: "fft2", shape: FFT_SHAPE },
  advdyn: () => {
    const x = torch.randn(FFT_SHAPE);
    return { step: () => torch.tidy(() => { torch.fft.fft2(x); }) };
  },
};

const gemmCase: Case = {
  key: "gemm2048", label: `matmul ${GEMM_N}² (ms)`, iters: 5, warmup: 1, spec: { case: "gemm", n: GEMM_N }, flops: GEMM_FLOPS,
  advdyn: () => {
    const a = torch.randn([GEMM_N, GEMM_N]), b = torch.randn([GEMM_N, GEMM_N]);
    return { step: () => torch.tidy(() => { torch.matmul(a, b); }) };
  },
};

// ---- statistics and report ----


function mapValues(v: Values, f: (x: number, column: Column) => number | undefined): Values {
  const out: Values = {};
  for (const c of COLUMNS) if (v[c] !== undefined) out[c] = f(v[c], c);
  return out;
}

interface Row {
  label: string;
  /** engine.json key of the values. */
  key: string;
  values: Values;
  /** engine.json key prefix of advdyn/peer ratios, for rows where lower is better. */
  ratioKey?: string;
  target?: number;
}

const ratio = (v: Values, peer: PeerColumn) => (v.advdyn !== undefined && v[peer] ? v.advdyn / v[peer] : undefined);
const fmt = (x: number | undefined) =>
  x === undefined ? "–" : Math.abs(x) >= 1000 ? Math.round(x).toLocaleString("en-US") : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);

function printTable(rows: readonly Row[]): void {
  const header = ["case", "advdyn", "peer as user", "peer same settings", "C++ libtorch", "ratio vs user", "ratio same settings", "target"];
  const lines = rows.map((r) => {
    const [u, s] = [ratio(r.values, "peer_user"), ratio(r.values, "peer_same_settings")];
    const met = r.target === undefined || u === undefined || s === undefined ? "" : Math.max(u, s) <= r.target ? " met" : " MISSED";
    return [r.label, ...COLUMNS.map((c) => fmt(r.values[c])), ...(r.ratioKey ? [fmt(u), fmt(s)] : ["", ""]), r.target === undefined ? "" : `≤ ${r.target}${met}`];
  });
  console.log(table(header, lines));
}

type Samples = Record<Column, number[]>;

/** Seconds per step of every column, repetition by repetition, the columns alternating. */
function measure(c: Case, py: Python | undefined, cppExe: string | undefined): Samples {
  process.stderr.write(`${c.label}: `);
  const s: Samples = { advdyn: [], peer_user: [], peer_same_settings: [], cpp: [] };
  for (let r = 0; r < REPS; r++) {
    s.advdyn.push(runAdvdyn(c));
    if (py) for (const p of ["peer_user", "peer_same_settings"] as const) s[p].push(runPeer(py, p, c));
    if (c.cpp && cppExe) s.cpp.push(runCpp(cppExe, c));
    process.stderr.write(".");
  }
  process.stderr.write("\n");
  return s;
}

function medians(s: Samples): Values {
  const out: Values = {};
  for (const c of COLUMNS) out[c] = median(s[c]);
  return out;
}

function rowsFor(c: Case, seconds: Values, ceiling: number): Row[] {
  if (c.cpp) {
    const perOp = mapValues(seconds, (s) => (s / OPS_PER_STEP) * 1e6);
    const rows: Row[] = [{ label: c.label, key: `${c.key}_us_per_op`, values: perOp }];
    const cppUs = perOp.cpp;
    if (cppUs !== undefined) {
      rows.push({
        label: "  dispatch overhead (µs/op)", key: `dispatch_overhead_${c.key}_us`, ratioKey: `dispatch_overhead_${c.key}`,
        values: mapValues(perOp, (us, col) => (col === "cpp" ? undefined : us - cppUs)), target: TARGETS.dispatch,
      });
    }
    return rows;
  }
  const { images, flops } = c;
  const rows: Row[] = [{ label: c.label, key: `${c.key}_ms`, values: mapValues(seconds, (s) => s * 1e3), ratioKey: c.key, target: images ? TARGETS.train : undefined }];
  if (images) rows.push({ label: "  images/s", key: `${c.key}_images_per_s`, values: mapValues(seconds, (s) => images / s) });
  if (flops) {
    const gflops = mapValues(seconds, (s) => flops / s / 1e9);
    rows.push({ label: "  GFLOP/s", key: `${c.key}_gflops`, values: gflops });
    if (c !== gemmCase) rows.push({ label: "  % of GEMM ceiling", key: `${c.key}_percent_of_ceiling`, values: mapValues(gflops, (g) => (100 * g) / ceiling) });
  }
  return rows;
}

/** Builds the cases (initial weights shared through a temporary folder) and measures them all. */
function measureAll(py: Python | undefined): { cases: Case[]; samples: Record<string, Samples>; shareInit: boolean } {
  const dir = mkdtempSync(join(tmpdir(), "advdyn-bench-"));
  try {
    const cppExe = buildCppBaseline(dir);
    const mlpInit = {
      // named as the peer's nn.Sequential state_dict
      "1.weight": uniform([2700, 3072], 3072), "1.bias": uniform([2700], 3072),
      "3.weight": uniform([10, 2700], 2700), "3.bias": uniform([10], 2700),
    };
    const convInit = {
      "0.weight": uniform([32, 3, 3, 3], 27), "0.bias": uniform([32], 27),
      "3.weight": uniform([10, 32 * 32 * 32], 32 * 32 * 32), "3.bias": uniform([10], 32 * 32 * 32),
    };
    const shareInit = py?.safetensors ?? false;
    const save = (name: string, init: Record<string, Tensor>) => {
      if (!shareInit) return undefined;
      const path = join(dir, `${name}.safetensors`);
      torch.saveSafetensors(path, init);
      return path;
    };
    if (py) {
      console.log(`peer: ${py.exe}, torch ${py.torch}; ${shareInit ? "same initial weights in both (safetensors)" : "no safetensors package: both sides use their own random weights"}`);
    }
    const cases = [
      tinyCase("add"),
      tinyCase("matmul"),
      trainCase("mlp", "MLP 3072-2700-10 train step (ms)", mlpInit, save("mlp", mlpInit),
        ([w1, b1, w2, b2], x) => F.linear(F.relu(F.linear(x.flatten(1), w1, b1)), w2, b2),
        2 * (3072 * 2700 + 2700 * 10)),
      trainCase("conv", "Conv 3→32 + linear train step (ms)", convInit, save("conv", convInit),
        ([wc, bc, wl, bl], x) => F.linear(F.relu(F.conv2d(x, wc, bc, { padding: 1 })).flatten(1), wl, bl),
        2 * (32 * 32 * 32 * 3 * 3 * 3) + 2 * (32 * 32 * 32 * 10)),
      fft2Case,
      gemmCase,
    ];
    const samples = Object.fromEntries(cases.map((c) => [c.key, measure(c, py, cppExe)]));
    for (const t of [...Object.values(mlpInit), ...Object.values(convInit)]) t.dispose();
    return { cases, samples, shareInit };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const started = Date.now();
  const load = loadavg()[0];
  if (load > 0.5) console.log(`notice: load average ${load.toFixed(2)}: other processes are running, expect more noise than usual`);
  const py = findPython();
  if (!py) console.log("notice: no Python with torch found ($PYTHON, python3, /usr/bin/python3): peer columns skipped");
  const { cases, samples, shareInit } = measureAll(py);

  const ceiling = Math.max(...Object.values(mapValues(medians(samples[gemmCase.key]), (s) => GEMM_FLOPS / s / 1e9)));
  const rows = cases.flatMap((c) => rowsFor(c, medians(samples[c.key]), ceiling));
  console.log(`\nadvdyn vs PyTorch ${py?.torch ?? "(no peer)"} on ${cpus()[0]?.model} (${CORES} cores), ${THREADS} intra-op threads, median of ${REPS} interleaved reps`);
  printTable(rows);
  console.log("ratios: advdyn time / PyTorch time, below 1 = advdyn faster; a target is met when both ratios are within it.");
  console.log(`GEMM ceiling ${fmt(ceiling)} GFLOP/s; training FLOPs counted as 3 × the forward pass's.`);

  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: CORES, load_average: { start: load, end: loadavg()[0] }, node: process.version },
    torch_version: py?.torch ?? null,
    libtorch: libtorchFlags("--describe"),
    threads: THREADS, reps: REPS, batch: BATCH, ops_per_tidy: OPS_PER_STEP,
    peer_python: py?.exe ?? null,
    peer_env: Object.fromEntries((["peer_user", "peer_same_settings"] as const).map((p) =>
      [p, { threads: PEER_THREADS[p], ...Object.fromEntries(TUNING.map((k) => [k, PEER_ENV[p][k] ?? null])) }])),
    init: shareInit ? "shared (safetensors)" : "random on each side",
    notes: "ratios are advdyn time / PyTorch time (below 1 = advdyn faster); *_vs_user: PyTorch as a user runs it; " +
      "*_same_settings: PyTorch with advdyn's thread and allocator settings; dispatch_overhead_*_ratio and fft2_ratio are the same-settings ratios",
    gemm_ceiling_gflops: ceiling,
  };
  for (const r of rows) {
    results[r.key] = r.values;
    if (!r.ratioKey) continue;
    results[`${r.ratioKey}_ratio_vs_user`] = ratio(r.values, "peer_user");
    results[`${r.ratioKey}_ratio_same_settings`] = ratio(r.values, "peer_same_settings");
  }
  for (const k of ["dispatch_overhead_add", "dispatch_overhead_matmul", "fft2"]) results[`${k}_ratio`] = results[`${k}_ratio_same_settings`];
  const elapsed = (Date.now() - started) / 1e3;
  results.samples_s = samples;
  results.elapsed_s = elapsed;
  const out = join(benchDir, "results");
  mkdirSync(out, { recursive: true });
  writeFileAtomic(join(out, "engine.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${join(out, "engine.json")} (${elapsed.toFixed(0)} s)`);
}

main();
