// One writer per folder: a lock file holding the owner's process id and host. A second command on
// the same folder stops at once with a message naming the owner (exit code 3); a lock left by a
// process that no longer runs on this host (kill -9, a crash) is taken over.
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { processAlive, tempPath } from "../util/atomic.js";

interface Owner {
  pid: number;
  host: string;
  /** The owner's start time (Linux clock ticks since boot), so a reused pid is not taken for the owner. */
  start: string;
  command: string;
  since: string;
}

/** Another live process holds the folder. */
export class FolderInUse extends Error {
  override name = "FolderInUse";
  readonly exitCode = 3;
}

function startTime(pid: number): string {
  try {
    // Field 22 of /proc/<pid>/stat; the command name (field 2) may contain spaces, so count after its ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}

const alive = (o: Owner) => processAlive(o.pid) && (o.start === "" || startTime(o.pid) === o.start);

function readOwner(path: string): Owner | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Owner;
  } catch {
    return undefined;
  }
}

/** `remote`: the lock file, when its owner runs on another host (its liveness cannot be checked from here). */
const inUse = (what: string, dir: string, o: Owner, remote?: string) =>
  new FolderInUse(`${what} ${dir} is in use by process ${o.pid} on host ${o.host} (since ${o.since}: advdyn ${o.command})${remote ? `; if that process is gone, delete ${remote}` : ""}`);

export class FolderLock {
  private constructor(readonly path: string) {}

  /** Takes `dir/<name>` for this process, or throws FolderInUse naming the process that holds it. */
  static acquire(dir: string, what: string, name = ".lock"): FolderLock {
    const path = join(dir, name);
    const me: Owner = { pid: process.pid, host: hostname(), start: startTime(process.pid), command: process.argv.slice(2).join(" "), since: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      // The lock appears with its content in one step: written under a temporary name, then hard-linked (fails if it exists).
      const tmp = tempPath(path);
      writeFileSync(tmp, JSON.stringify(me));
      try {
        linkSync(tmp, path);
        return new FolderLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      } finally {
        rmSync(tmp, { force: true });
      }
      const owner = readOwner(path);
      if (owner && (owner.host !== me.host || alive(owner))) throw inUse(what, dir, owner, owner.host !== me.host ? path : undefined);
      // Left by a process that is gone: move it aside and take over. Another process may have
      // taken over in between; what was moved is checked, and a live owner's lock is put back.
      const aside = tempPath(path);
      try {
        renameSync(path, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw e;
      }
      const moved = readOwner(aside);
      if (moved && alive(moved)) {
        try {
          linkSync(aside, path);
        } catch {
          // Someone holds the lock again; it is theirs either way.
        }
        rmSync(aside, { force: true });
        throw inUse(what, dir, moved);
      }
      rmSync(aside, { force: true });
    }
    throw new FolderInUse(`${what} ${dir}: could not take ${path} (other processes keep taking it)`);
  }

  /** Removes a lock left in `dir` whoever took it: for a folder the caller knows nobody else can be using. */
  static clear(dir: string, name = ".lock"): void {
    rmSync(join(dir, name), { force: true });
  }

  release(): void {
    const owner = readOwner(this.path);
    if (owner?.pid === process.pid) rmSync(this.path, { force: true });
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
