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
function faultAt(path: string, fd: number, data: Uint8Array, position: number | null): void {
  const at = process.env.ADVDYN_FAULT_WRITE;
  if (!at || !path.includes(at)) return;
  writeSync(fd, data, 0, data.length >> 1, position);
  fsyncSync(fd);
  process.stderr.write(`ADVDYN_FAULT_WRITE: stopped halfway through ${path}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

/**
 * A file that readers see either absent (or with its old content) or complete: written, in any
 * order of pieces, to a temporary name beside the target, then flushed and renamed over it by
 * commit(). Disposing it uncommitted (an error on the way) removes the temporary file.
 */
export class AtomicFile {
  readonly path: string;
  readonly #tmp: string;
  #fd: number | undefined;
  #written = false;

  constructor(path: string) {
    this.path = path;
    this.#tmp = tempPath(path);
    this.#fd = openSync(this.#tmp, "w");
  }

  /** Writes data at a byte position of the file (default: the current one, after the last write made without a position). */
  write(data: Uint8Array | string, position: number | null = null): void {
    const fd = this.#open();
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    if (!this.#written) faultAt(this.path, fd, bytes, position);
    this.#written = true;
    writeSync(fd, bytes, 0, bytes.length, position);
  }

  /** The open file, for writes made by native code; fault injection watches write() only, so write the first bytes with it. */
  get fd(): number {
    return this.#open();
  }

  /** Flushes and renames into place; on failure the temporary file stays until dispose. */
  commit(): void {
    const fd = this.#open();
    fsyncSync(fd);
    closeSync(fd);
    this.#fd = undefined;
    try {
      renameSync(this.#tmp, this.path);
    } catch (e) {
      rmSync(this.#tmp, { force: true });
      throw e;
    }
  }

  #open(): number {
    if (this.#fd === undefined) throw new Error(`${this.path}: already committed or abandoned`);
    return this.#fd;
  }

  [Symbol.dispose](): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
    rmSync(this.#tmp, { force: true });
  }
}

/** Writes a file atomically (see AtomicFile). */
export function writeFileAtomic(path: string, chunks: Uint8Array | string | readonly (Uint8Array | string)[]): void {
  using file = new AtomicFile(path);
  for (const c of Array.isArray(chunks) ? chunks : [chunks]) file.write(c);
  file.commit();
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
