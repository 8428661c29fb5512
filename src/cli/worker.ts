// `advdyn worker --queue URL`: runs jobs of any queued study whose folder this machine can reach.
import { Command, Option } from "commander";
import { deviceOption, integer } from "./options.js";

/** The queue's options, shared by `study` (optional: without it, jobs run in-process) and `worker` (required). */
export function queueOptions(cmd: Command, required: boolean): Command {
  const queue = new Option("--queue <url>", "a BullMQ queue on Redis: redis://host:port[/db], rediss:// for TLS (a password in the URL is never printed)" +
    (required ? "" : "; without it the jobs run in this process"));
  return cmd.addOption(required ? queue.makeOptionMandatory() : queue)
    .option("--queue-password-file <file>", "read the Redis password from this file (keeps it out of the command line)");
}

export function workerCommand(): Command {
  const cmd = new Command("worker")
    .description("Take jobs from the queue and run them, one process per job at a time, until stopped (Ctrl-C: after the current job; twice: now). " +
      "Study folders must be at the same path as on the enqueuing machine (shared storage).");
  queueOptions(cmd, true)
    .addOption(deviceOption())
    .option("--concurrency <n>", "jobs at once, each in its own process", integer(1), 1)
    .option("--threads <n>", "libtorch threads of each job process (default: the cores)", integer(1))
    .option("--lock-duration <s>", "seconds a job's lock lasts: how soon a lost worker's job goes to another", integer(1), 30)
    .option("--data-dir <dir>", "where real datasets live (default ~/.advdyn/data)")
    .action(async (o: { queue: string; queuePasswordFile?: string; device: "cpu" | "cuda"; concurrency: number; threads?: number; lockDuration: number; dataDir?: string }) => {
      const { startWorker } = await import("../studies/queue.js");
      const worker = startWorker({ url: o.queue, passwordFile: o.queuePasswordFile, ...o, log: (l) => console.log(l) });
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals) => {
          if (stopping) process.exit(130);
          stopping = true;
          console.log(`${signal}: stopping after the current job (again to stop now)`);
          void worker.close().then(resolve);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
    });
  return cmd;
}
