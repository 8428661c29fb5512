// The queue's benchmark: a grid of 8 smoke-sized training + measure units (16 jobs) run in one
// process, through 1 queue worker and through 2 (one libtorch thread each, on this 2-core machine),
// against a redis-server started here. Steady state, as in use: workers are started and warmed up
// (their job processes have loaded libtorch) before the clock starts, and the in-process arm runs
// in this already-warm process. Speed-up = time with 1 worker / time with 2; the queue's overhead
// per job = (time with 1 worker − time in one process) / jobs. Each arm is repeated (interleaved)
// and the median taken. Results go to bench/results/distributed.json.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { table } from "../src/cli/table.js";
import { studySpec } from "../src/studies/catalog.js";
import { runStudy } from "../src/studies/runner.js";
import type { JobRecord } from "../src/store/jobs.js";
import { writeFileAtomic } from "../src/util/atomic.js";
import { readJson } from "../src/util/json.js";
import { Redis } from "../test/redis.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(repo, "dist", "src", "cli", "main.js");
const out = join(repo, "bench", "results", "distributed.json");
const REPS = 3;
const TARGETS = { speedup: 1.8, overhead_ms_per_job: 50 };
// 2 models × 4 seeds of the smoke ifr study: 8 training jobs, each followed by its measure job.
const GRID = { scale: "smoke", models: ["fc-linear", "fwconv-linear"], seeds: [0, 1, 2, 3] } as const;
const JOBS = 16;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Workers (one libtorch thread each), warmed up on a small study of their own. */
async function startWorkers(n: number, url: string, dir: string): Promise<ChildProcess[]> {
  const procs = Array.from({ length: n }, () => spawn(process.execPath, [bin, "worker", "--queue", url, "--threads", "1"], { stdio: "ignore" }));
  await runStudy(studySpec("ifr", { scale: "smoke", models: ["fc-linear"], seeds: Array.from({ length: 2 * n }, (_, i) => 100 + i) }), join(mkdtempSync(join(dir, "warm-")), "study"),
    { progress: false, queue: { url } });
  return procs;
}

interface Timing {
  /** The command end to end: planning, the jobs, building results.duckdb. */
  wall: number;
  /** From the first job's start to the last job's end (the jobs' records). */
  span: number;
  /** Mean idle time between one job's end and the next one's start, on one worker (the queue's latency per job). */
  gap: number;
  /** The jobs' own seconds, summed: more than with one worker when jobs running side by side slow each other down. */
  busy: number;
}

/** The grid from an empty folder, in this process or through the queue's workers. */
async function arm(dir: string, name: string, url?: string): Promise<Timing> {
  const folder = join(mkdtempSync(join(dir, `${name}-`)), "study");
  const began = performance.now();
  await runStudy(studySpec("ifr", { ...GRID, models: [...GRID.models], seeds: [...GRID.seeds] }), folder, { progress: false, ...(url ? { queue: { url } } : {}) });
  const wall = (performance.now() - began) / 1000;
  const jobs = readdirSync(join(folder, "jobs")).filter((f) => f.endsWith(".json")).map((f) => readJson<JobRecord>(join(folder, "jobs", f))!)
    .map((r) => ({ end: Date.parse(r.finished) / 1000, start: Date.parse(r.finished) / 1000 - r.seconds, seconds: r.seconds })).sort((a, b) => a.start - b.start);
  const gaps = jobs.slice(1).map((j, i) => j.start - jobs[i]!.end);
  return {
    wall, span: Math.max(...jobs.map((j) => j.end)) - jobs[0]!.start, gap: gaps.reduce((a, b) => a + b, 0) / gaps.length,
    busy: jobs.reduce((a, j) => a + j.seconds, 0),
  };
}

export async function benchDistributed(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "advdyn-bench-queue-"));
  const redis = await Redis.start(dir);
  const url = redis.url;
  try {
    const load = { start: loadavg()[0]! };
    // One thread, like each worker (set before libtorch loads, so that its BLAS has one too).
    process.env.ADVDYN_NUM_THREADS = "1";
    await arm(dir, "warm-in-process");
    const times: Record<"in_process" | "workers_1" | "workers_2", Timing[]> = { in_process: [], workers_1: [], workers_2: [] };
    // Arms interleaved, repetition by repetition, so that drift in the machine's load hits all alike.
    for (let rep = 0; rep < REPS; rep++) {
      times.in_process.push(await arm(dir, "in-process"));
      for (const n of [1, 2] as const) {
        const workers = await startWorkers(n, url, dir);
        try {
          times[`workers_${n}`].push(await arm(dir, `workers-${n}`, url));
        } finally {
          for (const w of workers) w.kill("SIGKILL");
        }
      }
      console.error(`repetition ${rep + 1}/${REPS}: ${Object.entries(times).map(([k, v]) => `${k} ${v.at(-1)!.wall.toFixed(2)} s (jobs ${v.at(-1)!.span.toFixed(2)} s)`).join(", ")}`);
    }
    const m = (arm: keyof typeof times, f: keyof Timing) => median(times[arm].map((t) => t[f]));
    const [t0, t1, t2] = [m("in_process", "wall"), m("workers_1", "wall"), m("workers_2", "wall")];
    const [s1, s2] = [m("workers_1", "span"), m("workers_2", "span")];
    const results = {
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, load_average: { ...load, end: loadavg()[0] }, node: process.version },
      grid: { study: "ifr", ...GRID, jobs: JOBS, threads_per_worker: 1, repetitions: REPS },
      seconds: {
        in_process: t0, workers_1: t1, workers_2: t2, jobs_span_workers_1: s1, jobs_span_workers_2: s2,
        jobs_busy_in_process: m("in_process", "busy"), jobs_busy_workers_1: m("workers_1", "busy"), jobs_busy_workers_2: m("workers_2", "busy"), all: times,
      },
      speedup_2_workers: s1 / s2,
      speedup_2_workers_end_to_end: t1 / t2,
      /** The jobs' own summed seconds with 2 workers over 1: above 1 when jobs side by side slow each other (the machine's share of a lost speed-up). */
      busy_ratio_2_workers_vs_1: m("workers_2", "busy") / m("workers_1", "busy"),
      time_ratio_2_workers_vs_1: s2 / s1,
      time_ratio_1_worker_vs_in_process: t1 / t0,
      overhead_ms_per_job: m("workers_1", "gap") * 1000,
      overhead_ms_per_job_end_to_end: ((t1 - t0) * 1000) / JOBS,
      targets: TARGETS,
      notes: "speedup_2_workers: of the jobs' span (first start to last end, from their records); _end_to_end adds the enqueuer's fixed cost " +
        "(planning, building results.duckdb: about 0.3 s, which 2 workers do not share). overhead_ms_per_job: the mean idle time between one job's end " +
        "and the next one's start on one worker (queue round trips, the job process's checks); _end_to_end: (1 worker − in one process) / jobs. " +
        "Each arm from an empty study folder, medians of interleaved repetitions, steady state: the workers are started and warmed up " +
        "(a small study of their own, so their job processes have loaded libtorch) before the clock starts; the enqueuer and the in-process arm " +
        "run in this process, whose libtorch is loaded too and set to one thread like each worker",
    };
    writeFileAtomic(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(table(["arm", "seconds end to end", "jobs' span", "speed-up (span / end to end)", "target"], [
      ["in one process", t0.toFixed(2), "", "", ""],
      ["1 worker", t1.toFixed(2), s1.toFixed(2), "", `overhead ${results.overhead_ms_per_job.toFixed(0)} ms/job (target ≤ ${TARGETS.overhead_ms_per_job})`],
      ["2 workers", t2.toFixed(2), s2.toFixed(2), `${results.speedup_2_workers.toFixed(2)} / ${results.speedup_2_workers_end_to_end.toFixed(2)}`, `≥ ${TARGETS.speedup}`],
    ]));
    console.log(`the jobs' own time, summed, with 2 workers: ${results.busy_ratio_2_workers_vs_1.toFixed(2)}× that with 1 (they slow each other on this machine)`);
    console.log(`wrote ${out}`);
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await benchDistributed();
