import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

/** Temporary names are `<target>.tmp-<pid>-<random>` (and the database's `…​.wal` beside one). */
const TEMP = /\.tmp-(\d+)-[a-z0-9]+(\.wal)?$/;

/** A temporary name beside `path`, recognisable as this process's by removeOrphanTemps. */
export const tempPath = (path: string): string => `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

/**
 * Fault injection for the interruption tests: with ADVDYN_FAULT_WRITE set to a substring of a
 * target path, writing that file stops halfway (data flushed, not renamed) and the process
 * blocks until it is killed, so a test can kill it in the middle of a write.
 */
function faultAt(path: string, fd: number, data: Uint8Array): void {
  const at = process.env.ADVDYN_FAULT_WRITE;
  if (!at || !path.includes(at)) return;
  writeSync(fd, data.subarray(0, data.length >> 1));
  fsyncSync(fd);
  process.stderr.write(`ADVDYN_FAULT_WRITE: stopped halfway through ${path}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

/**
 * Writes a file so that readers see either the old content or the complete new one: data go to a
 * temporary name beside the target, are flushed, then renamed over it.
 */
export function writeFileAtomic(path: string, chunks: Uint8Array | string | readonly (Uint8Array | string)[]): void {
  const tmp = tempPath(path);
  const fd = openSync(tmp, "w");
  try {
    const list = Array.isArray(chunks) ? chunks : [chunks];
    if (list.length > 0) faultAt(path, fd, typeof list[0] === "string" ? Buffer.from(list[0]) : list[0] as Uint8Array);
    for (const c of list) writeSync(fd, c as Uint8Array);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Whether a process with this id runs on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes, under `dir` (recursively), the temporary files of processes that no longer run: what a
 * killed writer left behind (`all`: every temporary file, whoever wrote it — for a folder no other
 * process can be writing, whose writers may have run on other machines). Returns how many were removed.
 */
export function removeOrphanTemps(dir: string, o: { all?: boolean } = {}): number {
  let removed = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) removed += removeOrphanTemps(p, o);
    else {
      const m = TEMP.exec(e.name);
      if (m && (o.all || (Number(m[1]) !== process.pid && !processAlive(Number(m[1]))))) {
        rmSync(p, { force: true });
        removed++;
      }
    }
  }
  return removed;
}
