// A streaming .tar.gz extractor for dataset archives. It writes only regular files and folders,
// only inside the target, and nothing at all unless the whole archive is sound.
//
// Why not npm's `tar` (node-tar), well kept as it is: its defaults strip a member's `..` and
// leading `/` with a warning and extract the rest, and it writes members as they stream, so a bad
// member half-way leaves the earlier ones behind. For a dataset folder we want the opposite: refuse
// the archive (naming the member) and write nothing. With node-tar that takes a listing pass with a
// filter, extraction into a temporary folder and a move — about as much code as this reader, plus a
// dependency whose safety rests on its options. The cases this must refuse are tested one by one
// (test/data-download.test.ts: `..` in names, prefixes and GNU long names, absolute paths, links).
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, closeSync, openSync, writeSync } from "node:fs";
import { dirname, isAbsolute, join, resolve, sep } from "node:path";
import { createGunzip } from "node:zlib";

const BLOCK = 512;

/** Reads exact byte counts from a stream of chunks. */
class ByteReader {
  readonly #it: AsyncIterator<Buffer>;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #done = false;

  constructor(stream: AsyncIterable<Buffer>) {
    this.#it = stream[Symbol.asyncIterator]();
  }

  /** Exactly n bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.#buffered < n && !this.#done) {
      const r = await this.#it.next();
      if (r.done) this.#done = true;
      else {
        this.#chunks.push(r.value);
        this.#buffered += r.value.length;
      }
    }
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    const out = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(out.length);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return out;
  }

  /** Reads to the end, so that gunzip checks its trailer (CRC and length) even after the last member. */
  async drain(): Promise<void> {
    while (!this.#done) this.#done = (await this.#it.next()).done === true;
  }
}

function field(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? len : end).toString("utf8");
}

function octal(h: Buffer, start: number, len: number, what: string, archive: string): number {
  if (h[start]! & 0x80) throw new Error(`${archive}: ${what} uses tar's base-256 encoding, which dataset archives never need; refusing it`);
  const text = field(h, start, len).trim();
  const v = text === "" ? 0 : parseInt(text, 8);
  if (!/^[0-7]*$/.test(text) || !Number.isSafeInteger(v)) throw new Error(`${archive}: corrupt tar header (${what} '${text}')`);
  return v;
}

/** The `path` record of a pax extended header ("<len> path=<value>\n" records), if any. */
function paxPath(data: Buffer): string | undefined {
  let path: string | undefined;
  for (let at = 0; at < data.length;) {
    const space = data.indexOf(0x20, at);
    const len = parseInt(data.subarray(at, space).toString("ascii"), 10);
    if (space < 0 || !(len > 0)) break;
    const record = data.subarray(space + 1, at + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (record.slice(0, eq) === "path") path = record.slice(eq + 1);
    at += len;
  }
  return path;
}

/** Where member `name` goes under root, or an error if it would land outside it. */
function memberPath(root: string, name: string, archive: string): string {
  const refuse = (why: string) => new Error(`${archive}: refusing member '${name}': ${why}; nothing was extracted`);
  if (name.includes("\0")) throw refuse("its name contains a NUL byte");
  if (isAbsolute(name) || /^[A-Za-z]:/.test(name) || name.startsWith("\\")) throw refuse("absolute paths are not allowed");
  if (name.split(/[\\/]/).includes("..")) throw refuse("it escapes the target folder through '..'");
  const dest = resolve(root, name);
  if (dest !== root && !dest.startsWith(root + sep)) throw refuse("it escapes the target folder");
  return dest;
}

const TYPE_NAMES: Record<string, string> = { "1": "a hard link", "2": "a symbolic link", "3": "a character device", "4": "a block device", "6": "a FIFO" };

/**
 * Unpacks a .tar.gz into target: regular files and folders (ustar names with prefix, GNU long
 * names, pax paths). Links, devices and any member whose path is absolute or leaves target are
 * refused with an error naming it. Members are written to a fresh folder inside target first and
 * its top-level entries moved into place only after the whole archive was read, so a refused or
 * truncated archive leaves target as it was. Existing top-level entries of the same names are
 * replaced. Returns the top-level names.
 */
export async function extractTarGz(archive: string, target: string): Promise<string[]> {
  mkdirSync(target, { recursive: true });
  const root = resolve(target);
  const staging = mkdtempSync(join(root, ".extract-"));
  try {
    await unpack(archive, staging);
    const names = readdirSync(staging);
    for (const name of names) {
      rmSync(join(root, name), { recursive: true, force: true });
      renameSync(join(staging, name), join(root, name));
    }
    return names;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

async function unpack(archive: string, root: string): Promise<void> {
  const gunzip = createReadStream(archive).pipe(createGunzip());
  const input = new ByteReader(gunzip);
  let longName: string | undefined;
  try {
    for (;;) {
      const header = await input.read(BLOCK);
      if (header.length === 0) return; // some writers omit the two zero blocks
      if (header.length < BLOCK) throw new Error(`${archive}: truncated tar header`);
      if (header.every((b) => b === 0)) return await input.drain();
      const stored = octal(header, 148, 8, "checksum", archive);
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
      if (sum !== stored) throw new Error(`${archive}: corrupt tar header (checksum ${stored}, computed ${sum})`);

      const size = octal(header, 124, 12, "size", archive);
      const type = String.fromCharCode(header[156]!);
      // POSIX ustar only: GNU's "ustar  " headers keep other fields where the prefix would be
      const prefix = header.toString("latin1", 257, 263) === "ustar\0" ? field(header, 345, 155) : "";
      const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      longName = undefined;
      const padded = Math.ceil(size / BLOCK) * BLOCK;

      if (type === "L" || type === "x" || type === "g") {
        const data = await input.read(padded);
        if (data.length < padded) throw new Error(`${archive}: truncated tar archive`);
        if (type === "L") longName = field(data, 0, size);
        else if (type === "x") longName = paxPath(data.subarray(0, size));
        continue;
      }
      if (type === "5") {
        mkdirSync(memberPath(root, name, archive), { recursive: true });
        continue;
      }
      if (type !== "0" && type !== "\0" && type !== "7") {
        throw new Error(`${archive}: refusing member '${name}': it is ${TYPE_NAMES[type] ?? `of tar type '${type}'`}, only regular files and folders are extracted; nothing was extracted`);
      }
      const dest = memberPath(root, name, archive);
      if (dest === root) throw new Error(`${archive}: member '${name}' is a file named like the target folder`);
      mkdirSync(dirname(dest), { recursive: true });
      const fd = openSync(dest, "w");
      try {
        for (let left = padded; left > 0;) {
          const chunk = await input.read(Math.min(left, 1 << 20));
          if (chunk.length === 0) throw new Error(`${archive}: truncated tar archive (member '${name}')`);
          const useful = Math.max(0, Math.min(chunk.length, size - (padded - left)));
          if (useful > 0) writeSync(fd, chunk, 0, useful);
          left -= chunk.length;
        }
      } finally {
        closeSync(fd);
      }
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw code?.startsWith("Z_") ? new Error(`${archive}: not a valid gzip file (${(e as Error).message})`) : e;
  } finally {
    gunzip.destroy();
  }
}
