// Studies run by workers through BullMQ on a real Redis (redis-server started here on a free port):
// the same results as in one process, whatever happens to workers and to Redis.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { QUEUE_NAME } from "../src/studies/queue.js";
import { version } from "../src/util/version.js";
import { Redis, REDIS_SERVER, redisInstalled } from "./redis.js";

const bin = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "advdyn-queue-"));
const skip = !redisInstalled() && !process.env.ADVDYN_REQUIRE_REDIS
  ? `${REDIS_SERVER} not installed (apt-get install redis-server); set ADVDYN_REQUIRE_REDIS=1 to make this a failure` : false;

let redis: Redis;
const url = () => redis.url;

const workers: ChildProcess[] = [];
/** An advdyn worker process; its output (the job log) is collected. */
function worker(env: Record<string, string> = {}, ...args: string[]): ChildProcess & { log: () => string } {
  const w = spawn(process.execPath, [bin, "worker", "--queue", url(), "--threads", "1", "--lock-duration", "2", ...args], { env: { ...process.env, ...env } });
  let log = "";
  w.stdout!.on("data", (d: Buffer) => (log += d));
  w.stderr!.on("data", (d: Buffer) => (log += d));
  workers.push(w);
  return Object.assign(w, { log: () => log });
}
async function stopWorkers(): Promise<void> {
  await Promise.all(workers.splice(0).map((w) => (w.exitCode !== null || w.signalCode !== null ? undefined : new Promise((r) => {
    w.once("exit", r);
    w.kill("SIGKILL");
  }))));
}
/** `advdyn study … --queue` in the background. */
function enqueue(...args: string[]) {
  const p = spawn(process.execPath, [bin, "study", ...args, "--queue", url()], { env: { ...process.env, ADVDYN_NUM_THREADS: "1" } });
  let stdout = "";
  let stderr = "";
  p.stdout!.on("data", (d: Buffer) => (stdout += d));
  p.stderr!.on("data", (d: Buffer) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => p.on("close", (code) => r({ code, stdout, stderr })));
  return { process: p, done };
}
async function until(cond: () => boolean, what: string, seconds = 60): Promise<void> {
  for (let i = 0; i < seconds * 20; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** results.csv of an in-process run of the same study, one libtorch thread as the workers. */
function reference(study: string): string {
  const out = join(root, `ref-${study}`);
  if (!existsSync(join(out, "results.csv"))) {
    const r = spawnSync(process.execPath, [bin, "study", study, "--scale", "smoke", "--out", out], { encoding: "utf8", env: { ...process.env, ADVDYN_NUM_THREADS: "1" } });
    assert.equal(r.status, 0, r.stderr);
  }
  return readFileSync(join(out, "results.csv"), "utf8");
}

before(async () => {
  if (skip) return;
  redis = await Redis.start(root, { persist: true });
});
after(async () => {
  await stopWorkers();
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

test("three workers give the results.csv of one process, row for row", { skip }, async (t) => {
  t.after(stopWorkers);
  for (let i = 0; i < 3; i++) worker();
  const out = join(root, "three");
  const r = await enqueue("dynamics", "--scale", "smoke", "--out", out).done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(out, "results.csv"), "utf8"), reference("dynamics"));
  const ran = workers.map((w) => (w as unknown as { log: () => string }).log().match(/^done /gm)?.length ?? 0);
  assert.ok(ran.filter((n) => n > 0).length >= 2, `the jobs were shared: ${ran.join(", ")}`);
});

test("a worker killed in the middle of a training job, another in the middle of a measure job: the study completes, identical", { skip }, async (t) => {
  t.after(stopWorkers);
  const out = join(root, "killed");
  // A blocks halfway through writing a training checkpoint; B halfway through its first measure job's tensors.
  const a = worker({ ADVDYN_FAULT_WRITE: "checkpoints/epoch-0001" });
  const study = enqueue("ifr", "--scale", "smoke", "--out", out);
  await until(() => a.log().includes("ADVDYN_FAULT_WRITE"), "worker A to stop inside a training job");
  const b = worker({ ADVDYN_FAULT_WRITE: "tensors/" });
  await until(() => b.log().includes("ADVDYN_FAULT_WRITE"), "worker B to stop inside a measure job");
  a.kill("SIGKILL");
  b.kill("SIGKILL");
  // Their jobs' locks lapse; the queue gives the jobs to the workers left.
  worker();
  worker();
  const r = await study.done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(out, "results.csv"), "utf8"), reference("ifr"));
});

test("Redis restarted in the middle of a study: workers and the enqueuer reconnect, no job is lost", { skip }, async (t) => {
  t.after(stopWorkers);
  const out = join(root, "restart");
  const w = worker();
  const study = enqueue("dynamics", "--scale", "smoke", "--out", out);
  await until(() => (w.log().match(/^done /gm)?.length ?? 0) >= 2, "two jobs done");
  await redis.stop();
  await new Promise((r) => setTimeout(r, 1000));
  await redis.start();
  const r = await study.done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(out, "results.csv"), "utf8"), reference("dynamics"));
});

test("a job that fails is retried, then reported with its message; every other job completes; exit non-zero", { skip }, async (t) => {
  t.after(stopWorkers);
  const tags = { dataset: "fourier-classes", model: "fc", seed: 0 };
  const data = { name: "fourier-classes", options: { fourierClasses: { size: 16, train: 64, test: 16 } } };
  const train = (seed: number) => ({ model: { name: "fc", options: { width: 16 } }, dataset: data, train: { epochs: 1, batchSize: 32 }, seed });
  const spec = { study: "failing", jobs: [
    { id: "runs/a", kind: "train", tags, inputs: train(0) },
    { id: "attacks/a", kind: "attack-set", tags, deps: { run: "runs/a" }, inputs: { key: "pgd", attack: { attack: "pgd", norm: "linf", eps: 0.03, options: { steps: 2 } }, checkpoint: "best", split: "test", examples: 8, batchSize: 8, targets: "none", seed: 0 } },
    // Targets as labels, from an untargeted attack: fails when it runs.
    { id: "datasets/a", kind: "derive-dataset", tags, deps: { set: "attacks/a" }, inputs: { labels: "targets" } },
    { id: "runs/b", kind: "train", tags: { ...tags, model: "b" }, deps: { data: "datasets/a" }, inputs: { ...train(1), dataset: { from: "data" } } },
    { id: "runs/c", kind: "train", tags: { ...tags, model: "c" }, inputs: train(2) },
  ] };
  const file = join(root, "failing.json");
  writeFileSync(file, JSON.stringify(spec));
  const w = worker();
  const out = join(root, "failing");
  const r = await enqueue(file, "--out", out, "--retries", "1").done;
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /1 job\(s\) failed: datasets\/a: .*inputs\.labels "targets", but the attack-set's attack was untargeted; not run because of them: runs\/b\. Every other job is done/);
  assert.equal(w.log().match(/^failed .*datasets\/a/gm)?.length, 2, "tried twice (one retry)");
  const csv = readFileSync(join(out, "results.csv"), "utf8");
  assert.match(csv, /,c,0,epoch-0001,/, "the independent job's rows");
});

test("two enqueuers of the same study: each job runs once", { skip }, async (t) => {
  t.after(stopWorkers);
  const w = worker();
  const out = join(root, "twice");
  const [first, second] = [enqueue("ifr", "--scale", "smoke", "--out", out), enqueue("ifr", "--scale", "smoke", "--out", out)];
  const [r1, r2] = await Promise.all([first.done, second.done]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(r2.code, 0, r2.stderr);
  const done = w.log().match(/^done .*$/gm) ?? [];
  assert.equal(done.length, 6, done.join("\n"));
  assert.equal(new Set(done).size, 6, "no job ran twice");
  assert.equal(readFileSync(join(out, "results.csv"), "utf8"), reference("ifr"));
});

test("the queue is not a remote shell: entries outside a study's graph, or from another version, are refused and not retried", { skip }, async (t) => {
  t.after(stopWorkers);
  reference("ifr");
  const w = worker();
  const queue = new Queue(QUEUE_NAME, { connection: { host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null } });
  try {
    const study = join(root, "ref-ifr");
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ folder: "/etc", id: "x", key: "k", version, spec: "s" }, /\/etc: no study folder here/],
      [{ folder: study, id: "runs/../../etc", key: "k", version, spec: "0" }, /the study's graph is not the one this job was enqueued with/],
      [{ folder: study, id: "runs/x", key: "k", version: "9.9.9", spec: "s" }, /enqueued by advdyn 9\.9\.9, refused by this worker's advdyn/],
      [{ command: "rm -rf /" }, /not an advdyn job: 'folder' is missing/],
    ];
    for (const [data, message] of cases) {
      const job = await queue.add("train", data, { attempts: 3 });
      await until(() => w.log().includes(`failed`) && (w.log().match(/^failed .*$/gm) ?? []).some((l) => message.test(l)), `refusal ${message}`, 30);
      assert.equal(await job.getState(), "failed");
      assert.equal((await queue.getJob(job.id!))!.attemptsMade, 1, "not retried");
    }
  } finally {
    await queue.close();
  }
});
