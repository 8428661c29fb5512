// The identity of the data a job reads: the SHA-256 of every file of the set, so that a job on
// other data (another CIFAR folder, a changed file) gets another key and never reuses results.
// Digests are cached by path, size and modification time (~/.advdyn/cache/digests.json): a 180 MB
// set is hashed once, not at every run.
import { createHash } from "node:crypto";
import { mkdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { sha256File } from "../util/hash.js";
import { readJson, writeJson } from "../util/json.js";

const CACHE = join(homedir(), ".advdyn", "cache", "digests.json");

interface CacheEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

let cache: Record<string, CacheEntry> | undefined;

/** SHA-256 of a file, from the cache when its size and modification time are unchanged. */
export function fileDigest(path: string): string {
  const full = resolve(path);
  const st = statSync(full);
  cache ??= readJson<Record<string, CacheEntry>>(CACHE) ?? {};
  const hit = cache[full];
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.sha256;
  const sha256 = sha256File(full);
  cache[full] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
  try {
    mkdirSync(dirname(CACHE), { recursive: true });
    writeJson(CACHE, cache);
  } catch {
    // A read-only home only costs hashing again next time.
  }
  return sha256;
}

/** One digest for a list of files (their names and contents), '' for none (generated data). */
export function filesDigest(paths: readonly string[]): string {
  if (paths.length === 0) return "";
  const h = createHash("sha256");
  for (const p of paths) h.update(`${p.split(/[\\/]/).pop()}\0${fileDigest(p)}\n`);
  return `sha256:${h.digest("hex")}`;
}
