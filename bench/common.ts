// What the benchmarks share: the peer environments, finding a Python with torch, and the
// long-lived peer processes that answer one JSON line per request.
import { type ChildProcessByStdio, execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { ModelName } from "../src/models/index.js";
import { paperModel } from "../src/studies/paper-a-models.js";

// The variables advdyn tunes for itself. native.ts has put OMP_WAIT_POLICY into this process's
// environment, so the "as a user runs it" peer must have them removed, not merely not added.
export const TUNING = ["OMP_WAIT_POLICY", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_"];
export const USER_ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !TUNING.includes(k)));
/** advdyn's settings (the addon's mallopt at load) as environment. */
export const SAME_SETTINGS_ENV: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: "PASSIVE", MALLOC_MMAP_MAX_: "0", MALLOC_TRIM_THRESHOLD_: "100000000000" };

// Idle OpenBLAS workers keep spinning (yielding) for about 0.1 s after a call returns; the next
// column must not start while the last one's threads still compete for the 2 cores.
export const HANDOVER_MS = 200;

export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1]! + s[m]!) / 2;
}

export interface Python {
  exe: string;
  torch: string;
  safetensors: boolean;
}

/** The first of $PYTHON, python3, /usr/bin/python3 that imports torch. */
export function findPython(): Python | undefined {
  const probe = "import importlib.util, torch; print(torch.__version__); print(importlib.util.find_spec('safetensors') is not None)";
  for (const exe of [process.env.PYTHON, "python3", "/usr/bin/python3"]) {
    if (!exe) continue;
    try {
      const [version, safetensors] = execFileSync(exe, ["-c", probe], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().split("\n");
      return { exe, torch: version!, safetensors: safetensors === "True" };
    } catch {
      // no torch in this interpreter: try the next
    }
  }
  return undefined;
}

/** A long-lived Python peer (bench/peer_*.py): started with a JSON spec, it answers each JSON request line with one JSON line. */
export class Peer {
  #stderr = "";
  readonly #lines: AsyncIterator<string>;
  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, Readable>, readonly what: string) {
    child.stderr.setEncoding("utf8").on("data", (s: string) => { this.#stderr = (this.#stderr + s).slice(-4000); });
    this.#lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  /** Starts `script` and returns the peer with its first line (what the script reports on start). */
  static async start<Hello>(py: Python, script: string, env: NodeJS.ProcessEnv, spec: Record<string, unknown>, what: string): Promise<[Peer, Hello]> {
    const child = spawn(py.exe, [script, JSON.stringify(spec)], { env, stdio: ["pipe", "pipe", "pipe"] });
    const peer = new Peer(child, `${script} ${what}`);
    return [peer, await peer.#read<Hello>()];
  }

  async #read<T>(): Promise<T> {
    const { value, done } = await this.#lines.next();
    if (done) {
      const code = await new Promise<number | null>((res) => (this.child.exitCode !== null ? res(this.child.exitCode) : this.child.once("close", res)));
      throw new Error(`${this.what} exited (${code}):\n${this.#stderr.trim()}`);
    }
    return JSON.parse(value) as T;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async request<T>(message: unknown): Promise<T> {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
    return this.#read<T>();
  }

  async close(): Promise<void> {
    const closed = new Promise((res) => (this.child.exitCode !== null ? res(null) : this.child.once("close", res)));
    this.child.stdin.end();
    await closed;
  }
}

/** A paper A model as the benchmarks name it (result keys with underscores), built as the studies build it. */
export function paperBenchModel(key: string): { key: string; label: string; name: ModelName; options: Record<string, unknown> } {
  const m = paperModel(key);
  return { key: m.key.replace(/-/g, "_"), label: m.label, name: m.name, options: m.options };
}
