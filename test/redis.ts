// A real redis-server on a free 127.0.0.1 port, for the queue tests and the distributed benchmark.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";

export const REDIS_SERVER = "/usr/bin/redis-server";
export const redisInstalled = () => existsSync(REDIS_SERVER);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

/** One redis-server; `start` again after `stop` brings it back on the same port and data (append-only file when `persist`). */
export class Redis {
  private proc: ChildProcess | undefined;
  private constructor(readonly port: number, private readonly dir: string, private readonly persist: boolean) {}

  static async start(dir: string, opts: { persist?: boolean } = {}): Promise<Redis> {
    const r = new Redis(await freePort(), dir, opts.persist ?? false);
    await r.start();
    return r;
  }

  get url(): string { return `redis://127.0.0.1:${this.port}`; }
  get running(): boolean { return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null; }

  async start(): Promise<void> {
    const durability = this.persist ? ["--appendonly", "yes", "--appendfsync", "always"] : [];
    this.proc = spawn(REDIS_SERVER, ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", ...durability, "--dir", this.dir], { stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      if (spawnSync("redis-cli", ["-p", String(this.port), "ping"], { encoding: "utf8" }).stdout?.trim() === "PONG") return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || !this.running) return;
    p.kill("SIGTERM");
    await new Promise((res) => p.once("exit", res));
  }
}
