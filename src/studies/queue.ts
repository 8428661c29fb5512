// Running a study's jobs on many machines through BullMQ on Redis. The enqueuer walks the study's
// graph (the same Graph as in-process runs) and adds each job to the queue once its dependencies
// are done; workers anywhere that see the study folder (shared storage) take jobs and run them in
// a child process (BullMQ's sandboxed processor: the computation cannot stall the worker's lock
// renewals). BullMQ brings the rest: one worker per job, retries, stall detection after a lost
// worker, reconnection to Redis. Results stay the job store's: each job commits its own files,
// rows and record in the study folder, so it does not matter which machine ran it.
//
// A worker trusts nothing in a queue entry beyond where to look: it loads the study's spec from
// the folder, rebuilds the graph and runs the job of that id only if its key is the one the
// enqueuer computed (same code version, same spec, same data). The queue is not a remote shell.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue, QueueEvents, UnrecoverableError, Worker, type ConnectionOptions, type Job } from "bullmq";
import { JobStore, type JobRecord } from "../store/jobs.js";
import { FolderLock } from "../store/lock.js";
import { type JobSpec, type StudyFile, StudyFolder } from "../store/study-folder.js";
import { removeOrphanTemps } from "../util/atomic.js";
import { readJson } from "../util/json.js";
import { Progress } from "../util/progress.js";
import { version } from "../util/version.js";
import { Graph, type RunEnv, jobKey } from "./graph.js";
import { jobKind } from "./kinds/index.js";

/** The one queue advdyn uses; jobs of every study go through it. */
export const QUEUE_NAME = "advdyn";

export interface QueueConnection {
  /** redis://[user:password@]host:port[/db], or rediss:// for TLS. */
  url: string;
  /** A file holding the password (kept out of the URL, the command line and the logs). */
  passwordFile?: string;
}

/** BullMQ's connection options, and the address to show (never the password). */
export function connectionOf(c: QueueConnection): { connection: ConnectionOptions; shown: string } {
  let url: URL;
  try {
    url = new URL(c.url);
  } catch {
    throw new Error(`--queue: expected redis://host:port or rediss://host:port, got something else`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new Error(`--queue: expected a redis:// or rediss:// URL, got a ${url.protocol} one`);
  const password = c.passwordFile !== undefined ? readFileSync(c.passwordFile, "utf8").trim() : url.password ? decodeURIComponent(url.password) : undefined;
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`--queue: the database number must be an integer ≥ 0`);
  const port = Number(url.port || 6379);
  return {
    // Workers block on Redis: BullMQ needs requests retried for ever, so that a restarted Redis is waited for.
    connection: {
      host: url.hostname, port, db, maxRetriesPerRequest: null,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}), ...(password ? { password } : {}),
      ...(url.protocol === "rediss:" ? { tls: {} } : {}),
    },
    shown: `${url.protocol}//${url.hostname}:${port}/${db}`,
  };
}

/** What a queue entry carries: where the study is, which job, and what the enqueuer computed. */
export interface QueuedJob {
  /** The study folder, absolute: the same path on every machine (shared storage). */
  folder: string;
  id: string;
  key: string;
  /** advdyn's version of the enqueuer. */
  version: string;
  /** A hash of the study's graph as the enqueuer read it. */
  spec: string;
}

/** Unique across studies: the same job (key) in two folders is two queue entries. */
const queueId = (folder: string, key: string) => `${createHash("sha256").update(folder).digest("hex").slice(0, 12)}-${key}`;

export interface EnqueueOptions extends QueueConnection {
  /** Attempts after the first, for a job that fails with an error (default 2). */
  retries?: number;
  /** Seconds between looks at the queue and the folder when no job finishes meanwhile (default 2). */
  poll?: number;
}

export interface QueueRun {
  /** Records of the jobs done, in graph order. */
  records: JobRecord[];
  /** Jobs the workers ran for this enqueuer. */
  ran: number;
  /** Jobs that failed after their retries, with why, and those that could not run because of them. */
  failed: Map<string, string>;
  blocked: string[];
}

/**
 * Enqueues a graph's jobs as their dependencies finish and waits for the workers, until every
 * job is done or waits on one that failed after its retries.
 */
export async function runOnQueue(jobs: readonly JobSpec[], store: JobStore, env: RunEnv, o: EnqueueOptions): Promise<QueueRun> {
  if (!isAbsolute(env.root)) throw new Error(`${env.root}: a queued study needs an absolute folder path (the workers' path to the shared storage)`);
  const { connection, shown } = connectionOf(o);
  const graph = new Graph(jobs, jobKind, store, { ...env, log: () => {} });
  const digest = jobKey(jobs);
  const queue = new Queue<QueuedJob>(QUEUE_NAME, { connection });
  // A job finishing (anywhere) wakes the loop at once; a missed event (Redis restarted) costs one poll.
  const events = new QueueEvents(QUEUE_NAME, { connection });
  let wake = () => {};
  const woken = () => new Promise<void>((r) => {
    wake = r;
    setTimeout(r, (o.poll ?? 2) * 1000);
  });
  events.on("completed", () => wake());
  events.on("failed", () => wake());
  const failed = new Map<string, string>();
  const enqueued = new Set<string>();
  let ran = 0;
  const progress = env.progress ? new Progress(`queue ${shown}`, 1, "job") : undefined;
  env.log(`enqueuing on ${shown}; workers: advdyn worker --queue ${shown}`);
  try {
    for (;;) {
      graph.expand();
      for (const j of graph.ready()) {
        if (enqueued.has(j.id) || failed.has(j.id)) continue;
        const key = graph.keyOf(j);
        const id = queueId(env.root, key);
        // An entry that ended earlier (failed, or completed but its outputs since damaged or deleted) is run again;
        // one waiting or running (another enqueuer's) is left as it is.
        const existing = await queue.getJob(id);
        const state = existing && (await existing.getState());
        if (state === "failed" || state === "completed") await existing!.remove();
        await queue.add(j.kind, { folder: env.root, id: j.id, key, version, spec: digest }, {
          jobId: id, attempts: (o.retries ?? 2) + 1, backoff: { type: "fixed", delay: 1000 },
          removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 },
        });
        enqueued.add(j.id);
        env.log(`queued ${j.kind} ${j.id}`);
      }
      for (const id of enqueued) {
        const j = graph.job(id)!;
        if (graph.done(j)) {
          ran++;
          enqueued.delete(id);
          continue;
        }
        const entry = await queue.getJob(queueId(env.root, graph.keyOf(j)));
        if (entry && (await entry.getState()) === "failed") {
          failed.set(id, entry.failedReason);
          enqueued.delete(id);
          env.log(`failed ${j.kind} ${j.id}: ${entry.failedReason}`);
        }
      }
      const blocked = blockedBy(graph, failed);
      const pending = graph.pending().filter((j) => !failed.has(j.id) && !blocked.has(j.id));
      if (progress) {
        progress.total = graph.jobs.length;
        progress.tick(0, { done: graph.jobs.length - graph.pending().length, running: enqueued.size, failed: failed.size });
      }
      if (pending.length === 0) break;
      await woken();
    }
  } finally {
    await Promise.all([queue.close(), events.close()]);
  }
  return {
    records: graph.jobs.map((j) => graph.done(j)).filter((r): r is JobRecord => r !== undefined),
    ran, failed, blocked: [...blockedBy(graph, failed)],
  };
}

/** Pending jobs that wait, directly or not, on a failed one. */
function blockedBy(graph: Graph, failed: ReadonlyMap<string, string>): Set<string> {
  const blocked = new Set<string>();
  for (const j of graph.jobs) {
    if (Object.values(j.deps ?? {}).some((d) => failed.has(d) || blocked.has(d))) blocked.add(j.id);
  }
  return blocked;
}

/** A queued job as a worker's job process runs it (see the file comment for what is checked). */
export async function runQueuedJob(data: QueuedJob, o: { dataDir?: string; device?: "cpu" | "cuda"; log?: (line: string) => void }): Promise<{ ran: boolean }> {
  for (const k of ["folder", "id", "key", "version", "spec"] as const) {
    if (typeof data?.[k] !== "string") throw new UnrecoverableError(`not an advdyn job: '${k}' is missing`);
  }
  if (data.version !== version) throw new UnrecoverableError(`enqueued by advdyn ${data.version}, refused by this worker's advdyn ${version}: run workers of the same version`);
  const studyPath = StudyFolder.paths(data.folder).spec;
  if (!isAbsolute(data.folder) || !existsSync(studyPath)) throw new UnrecoverableError(`${data.folder}: no study folder here (is the shared storage mounted at the same path?)`);
  const spec = readJson<StudyFile>(studyPath)!.spec;
  if (jobKey(spec.jobs) !== data.spec) throw new UnrecoverableError(`${studyPath}: the study's graph is not the one this job was enqueued with`);
  const store = new JobStore(data.folder);
  const graph = new Graph(spec.jobs, jobKind, store, { root: data.folder, dataDir: o.dataDir, device: o.device, progress: false, log: o.log ?? (() => {}) });
  graph.expand();
  const j: JobSpec | undefined = graph.job(data.id);
  if (!j) throw new UnrecoverableError(`job '${data.id}' is not in the graph of ${data.folder}`);
  if (graph.keyOf(j) !== data.key) throw new UnrecoverableError(`job '${data.id}': its key here (${graph.keyOf(j)}) is not the enqueuer's (${data.key}): other data or settings`);
  if (graph.done(j)) return { ran: false };
  // What an earlier attempt of this very job left (the queue gives a job to one worker at a time).
  const dir = join(data.folder, j.id);
  removeOrphanTemps(dir, { all: true });
  FolderLock.clear(dir);
  await graph.run(j);
  return { ran: true };
}

export interface WorkerOptions extends QueueConnection {
  device?: "cpu" | "cuda";
  dataDir?: string;
  /** Jobs at once (each in its own process). */
  concurrency?: number;
  /** libtorch threads of each job process. */
  threads?: number;
  /** Seconds a job's lock lasts without renewal: how soon a lost worker's job is given to another. */
  lockDuration?: number;
  log?: (line: string) => void;
}

/** A worker: runs queued jobs until stopped; resolves with its BullMQ Worker (close() to stop). */
export function startWorker(o: WorkerOptions): Worker<QueuedJob> {
  const { connection, shown } = connectionOf(o);
  const log = o.log ?? (() => {});
  const lockMs = (o.lockDuration ?? 30) * 1000;
  const processor = fileURLToPath(new URL("./queue-processor.js", import.meta.url));
  const worker = new Worker<QueuedJob>(QUEUE_NAME, processor, {
    connection, concurrency: o.concurrency ?? 1, lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: 3,
    useWorkerThreads: false,
    workerForkOptions: {
      env: {
        ...process.env, ADVDYN_WORKER_DEVICE: o.device ?? "cpu", ...(o.dataDir ? { ADVDYN_WORKER_DATA_DIR: o.dataDir } : {}),
        ...(o.threads ? { ADVDYN_NUM_THREADS: String(o.threads) } : {}),
      },
    },
  });
  worker.on("active", (job: Job<QueuedJob>) => log(`running ${job.data.folder} ${job.data.id}`));
  worker.on("completed", (job: Job<QueuedJob>, r: { ran: boolean }) => log(`${r.ran ? "done" : "already done"} ${job.data.folder} ${job.data.id}`));
  worker.on("failed", (job: Job<QueuedJob> | undefined, e: Error) => log(`failed ${job?.data.folder} ${job?.data.id}: ${e.message}`));
  worker.on("error", (e: Error) => log(`queue ${shown}: ${e.message}`));
  log(`worker on ${shown}, ${o.concurrency ?? 1} job(s) at a time, advdyn ${version}`);
  return worker;
}
