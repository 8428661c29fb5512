// A queue worker's job process (BullMQ's sandboxed processor): runs one queued job at a time,
// dies with its worker.
import type { SandboxedJob } from "bullmq";
import { dieWithParent } from "../torch/index.js";
import { type QueuedJob, runQueuedJob } from "./queue.js";

export default async function processQueuedJob(job: SandboxedJob<QueuedJob>): Promise<{ ran: boolean }> {
  dieWithParent();
  const device = process.env.ADVDYN_WORKER_DEVICE === "cuda" ? "cuda" : "cpu";
  return runQueuedJob(job.data, { device, dataDir: process.env.ADVDYN_WORKER_DATA_DIR });
}
