import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import { torch } from "../src/index.js";
import * as data from "../src/data/index.js";
import type { DownloadSource } from "../src/data/index.js";
import { values } from "./helpers.js";

// ---- a tar writer for the tests (ustar headers) ----

interface Member {
  name: string;
  data?: Buffer;
  /** tar type flag: "0" file (default), "5" folder, "2" symlink, "L" GNU long name... */
  type?: string;
  /** ustar prefix field. */
  prefix?: string;
  linkname?: string;
  /** GNU's "ustar  " magic, whose headers hold other data where ustar keeps the prefix. */
  gnu?: boolean;
}

function header(m: Member, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (text: string, at: number, len: number) => h.write(text, at, len, "utf8");
  const num = (v: number, at: number, len: number) => put(`${v.toString(8).padStart(len - 1, "0")}\0`, at, len);
  put(m.name, 0, 100);
  num(m.type === "5" ? 0o755 : 0o644, 100, 8);
  num(0, 108, 8);
  num(0, 116, 8);
  num(size, 124, 12);
  num(1_700_000_000, 136, 12);
  put(m.type ?? "0", 156, 1);
  put(m.linkname ?? "", 157, 100);
  if (m.gnu) {
    put("ustar  \0", 257, 8);
    num(1_700_000_000, 345, 12); // atime
  } else {
    put("ustar\0", 257, 6);
    put("00", 263, 2);
    put(m.prefix ?? "", 345, 155);
  }
  h.fill(0x20, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return h;
}

function tarGz(members: Member[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const body = m.data ?? Buffer.alloc(0);
    parts.push(header(m, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

// ---- a local server: path → body, with an optional dropped connection ----

const files = new Map<string, Buffer>();
/** Paths whose next response stops after half the body and destroys the socket. */
const dropOnce = new Set<string>();
let server: http.Server;
let baseUrl: string;
const root = mkdtempSync(join(tmpdir(), "advdyn-download-test-"));
let dirs = 0;
const freshDir = () => join(root, `d${dirs++}`);
const quiet = () => {};

before(async () => {
  server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/moved/toy.tar.gz") {
      res.writeHead(302, { location: "/toy.tar.gz" }).end();
      return;
    }
    const body = files.get(path);
    if (!body) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-length": body.length });
    if (dropOnce.delete(path)) {
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => {
  server.close();
  rmSync(root, { recursive: true, force: true });
});

/** Every path under dir, relative, sorted (folders end with /). */
function tree(dir: string, prefix = ""): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? [`${prefix}${e.name}/`, ...tree(join(dir, e.name), `${prefix}${e.name}/`)] : [`${prefix}${e.name}`]).sort();
}

function toySource(archive: Buffer, o: Partial<DownloadSource> = {}): DownloadSource {
  files.set("/toy.tar.gz", archive);
  return {
    name: "toy", baseUrl: "http://unused.invalid/", folder: "", extract: true,
    files: [{ name: "toy.tar.gz", sha256: sha256(archive), size: archive.length }],
    ready: ["toy/a.txt"], ...o,
  };
}

// ---- tests ----

test("download: verified, extracted (ustar prefix, GNU headers, folders), progress reported, and a rerun fetches nothing", async () => {
  const long = `${"p".repeat(90)}/${"q".repeat(60)}`; // too long for the 100-byte name field alone
  const archive = tarGz([
    { name: "toy/", type: "5" },
    { name: "toy/a.txt", data: Buffer.from("alpha") },
    { name: "b.bin", prefix: `toy/${long}`, data: Buffer.alloc(1500, 7) },
    { name: "toy/empty/", type: "5" },
    { name: "toy/gnu.txt", gnu: true, data: Buffer.from("gnu") },
  ]);
  const source = toySource(archive);
  const dir = freshDir();
  const seen: data.DownloadProgress[] = [];
  const r = await data.download(source, { dir, baseUrl, onProgress: (p) => seen.push(p) });
  assert.deepEqual(r, { folder: dir, fetched: ["toy.tar.gz"], repaired: [] });
  assert.equal(readFileSync(join(dir, "toy/a.txt"), "utf8"), "alpha");
  assert.deepEqual(readFileSync(join(dir, "toy", long, "b.bin")), Buffer.alloc(1500, 7));
  assert.equal(readFileSync(join(dir, "toy/gnu.txt"), "utf8"), "gnu");
  assert.deepEqual(tree(dir), [".advdyn-toy.json", "toy.tar.gz", "toy/", "toy/a.txt", "toy/empty/", "toy/gnu.txt", `toy/${"p".repeat(90)}/`, `toy/${long}/`, `toy/${long}/b.bin`].sort());
  assert.deepEqual(seen.at(-1), { file: "toy.tar.gz", bytes: archive.length, total: archive.length });
  assert.deepEqual(await data.download(source, { dir, baseUrl: "http://127.0.0.1:9/" }), { folder: dir, fetched: [], repaired: [] }, "ready and verified: no request at all");
  rmSync(join(dir, "toy/a.txt"));
  const again = await data.download(source, { dir, baseUrl: "http://127.0.0.1:9/", onProgress: quiet });
  assert.deepEqual(again.fetched, [], "re-extracted from the kept, verified archive");
  assert.deepEqual(again.repaired, [`${join(dir, "toy/a.txt")}: missing`]);
  assert.equal(readFileSync(join(dir, "toy/a.txt"), "utf8"), "alpha");
  // A file cut short, or changed to the same size, is found (against the sizes and SHA-256 recorded after extraction) and repaired.
  writeFileSync(join(dir, "toy/a.txt"), "al");
  assert.deepEqual((await data.download(source, { dir, baseUrl: "http://127.0.0.1:9/", onProgress: quiet })).repaired, [`${join(dir, "toy/a.txt")}: 2 bytes, expected 5`]);
  writeFileSync(join(dir, "toy/a.txt"), "omega");
  assert.deepEqual((await data.download(source, { dir, baseUrl: "http://127.0.0.1:9/", onProgress: quiet })).repaired,
    [`${join(dir, "toy/a.txt")}: its SHA-256 does not match the one recorded when it was verified`]);
  assert.equal(readFileSync(join(dir, "toy/a.txt"), "utf8"), "alpha");
});

test("download follows redirects and names the URL and status of a failure", async () => {
  const source = toySource(tarGz([{ name: "toy/a.txt", data: Buffer.from("x") }]));
  const dir = freshDir();
  await data.download(source, { dir, baseUrl: `${baseUrl}moved/`, onProgress: quiet });
  assert.ok(existsSync(join(dir, "toy/a.txt")));
  await assert.rejects(data.download({ ...source, files: [{ name: "absent.tar.gz", sha256: "0".repeat(64) }] }, { dir: freshDir(), baseUrl, onProgress: quiet }),
    (e: Error) => e.message === `${baseUrl}absent.tar.gz: HTTP 404 Not Found`);
});

test("a wrong checksum or size leaves nothing behind", async () => {
  const archive = tarGz([{ name: "toy/a.txt", data: Buffer.from("x") }]);
  const source = toySource(archive, { files: [{ name: "toy.tar.gz", sha256: "f".repeat(64) }] });
  const dir = freshDir();
  await assert.rejects(data.download(source, { dir, baseUrl, onProgress: quiet }),
    (e: Error) => e.message === `${baseUrl}toy.tar.gz: SHA-256 ${sha256(archive)} does not match the expected ${"f".repeat(64)}; nothing was kept`);
  assert.deepEqual(tree(dir), []);
  // the real table: our fake MNIST file has neither the official size nor the official hash
  files.set("/train-images-idx3-ubyte.gz", gzipSync(Buffer.alloc(100)));
  const mnistDir = freshDir();
  await assert.rejects(data.downloadDataset("mnist", { dir: mnistDir, baseUrl, onProgress: quiet }),
    /train-images-idx3-ubyte\.gz: the server announces \d+ bytes, expected 9912422/);
  assert.deepEqual(tree(mnistDir), ["mnist/"]);
  await assert.rejects(data.downloadDataset("svhn" as "mnist", { dir: mnistDir }), /downloadDataset: expected one of cifar10, cifar100, mnist, fashion-mnist, got "svhn"/);
});

test("a connection dropped mid-transfer leaves no file, and a rerun succeeds", async () => {
  const archive = tarGz([{ name: "toy/a.txt", data: Buffer.from("y".repeat(100_000)) }, { name: "toy/z.bin", data: Buffer.alloc(200_000, 3) }]);
  const source = toySource(archive);
  const dir = freshDir();
  dropOnce.add("/toy.tar.gz");
  await assert.rejects(data.download(source, { dir, baseUrl, onProgress: quiet }), /toy\.tar\.gz: (transfer failed after \d+ bytes|received \d+ bytes, expected \d+).*run again to retry/);
  assert.deepEqual(tree(dir), [], "no final file and no .part");
  const r = await data.download(source, { dir, baseUrl, onProgress: quiet });
  assert.deepEqual(r.fetched, ["toy.tar.gz"]);
  assert.equal(readFileSync(join(dir, "toy/a.txt"), "utf8"), "y".repeat(100_000));
});

test("members that would leave the target folder, or are links, are refused and nothing is written", async () => {
  const cases: [Member[], RegExp][] = [
    [[{ name: "toy/a.txt", data: Buffer.from("ok") }, { name: "../evil.txt", data: Buffer.from("pwned") }], /refusing member '\.\.\/evil\.txt': it escapes the target folder through '\.\.'; nothing was extracted/],
    [[{ name: "toy/a.txt", data: Buffer.from("ok") }, { name: "toy/../../evil.txt", data: Buffer.from("pwned") }], /refusing member 'toy\/\.\.\/\.\.\/evil\.txt': it escapes/],
    [[{ name: "evil.txt", prefix: "..", data: Buffer.from("pwned") }], /refusing member '\.\.\/evil\.txt'/],
    [[{ name: `${root}/evil.txt`, data: Buffer.from("pwned") }], /refusing member '.*evil\.txt': absolute paths are not allowed/],
    [[{ name: "toy/a.txt", type: "2", linkname: "/etc/passwd" }], /refusing member 'toy\/a\.txt': it is a symbolic link, only regular files and folders are extracted/],
    [[{ name: "toy/a.txt", type: "1", linkname: "../x" }], /it is a hard link/],
    [[{ name: "x".repeat(20), type: "L", data: Buffer.from("../evil.txt\0") }, { name: "harmless", data: Buffer.from("pwned") }], /refusing member '\.\.\/evil\.txt'/],
  ];
  for (const [members, message] of cases) {
    const parent = freshDir();
    const dir = join(parent, "target");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "keep.txt"), "mine");
    const source = toySource(tarGz(members));
    await assert.rejects(data.download(source, { dir, baseUrl, onProgress: quiet }), message);
    assert.deepEqual(tree(parent), ["target/", "target/keep.txt", "target/toy.tar.gz"], `after ${members.map((m) => m.name).join(", ")}`);
  }
  assert.ok(!existsSync(join(root, "evil.txt")));
});

test("a corrupt or truncated archive is one clear error and extracts nothing", async () => {
  const dir = freshDir();
  mkdirSync(dir);
  const path = join(dir, "bad.tar.gz");
  const extract = () => data.extractTarGz(path, dir);
  writeFileSync(path, "not gzip at all");
  await assert.rejects(extract(), (e: Error) => e.message.startsWith(`${path}: not a valid gzip file`));
  const tampered = header({ name: "toy/a.txt" }, 2);
  tampered[0] = tampered[0]! + 1; // the name changed after the checksum was computed
  writeFileSync(path, gzipSync(Buffer.concat([tampered, Buffer.alloc(512)])));
  await assert.rejects(extract(), /corrupt tar header \(checksum \d+, computed \d+\)/);
  writeFileSync(path, gzipSync(Buffer.concat([header({ name: "toy/a.txt" }, 5000), Buffer.alloc(512)])));
  await assert.rejects(extract(), /truncated tar archive \(member 'toy\/a\.txt'\)/);
  const good = tarGz([{ name: "toy/a.txt", data: Buffer.alloc(4000, 1) }]);
  writeFileSync(path, good.subarray(0, good.length - 8));
  await assert.rejects(extract(), /not a valid gzip file \(unexpected end of file\)/);
  assert.deepEqual(tree(dir), ["bad.tar.gz"]);
  writeFileSync(path, good);
  assert.deepEqual(await extract(), ["toy"]);
});

test("a CIFAR-10-shaped archive goes from the server to loadDataset", async () => {
  const record = (label: number) => Buffer.concat([Buffer.from([label]), Buffer.alloc(3072, label * 20)]);
  const batch = (labels: number[]) => Buffer.concat(labels.map(record));
  const archive = tarGz([
    { name: "cifar-10-batches-bin/", type: "5" },
    ...[1, 2, 3, 4, 5].map((i) => ({ name: `cifar-10-batches-bin/data_batch_${i}.bin`, data: batch([i, i + 1]) })),
    { name: "cifar-10-batches-bin/test_batch.bin", data: batch([0, 9, 9]) },
    { name: "cifar-10-batches-bin/batches.meta.txt", data: Buffer.from("airplane\n") },
  ]);
  files.set("/cifar-10-binary.tar.gz", archive);
  const source = { ...data.SOURCES.cifar10, files: [{ name: "cifar-10-binary.tar.gz", sha256: sha256(archive) }], sizes: {} };
  const dir = freshDir();
  await data.download(source, { dir, baseUrl, onProgress: quiet });
  const before = torch.memory().tensors;
  const test = data.loadDataset("cifar10", { dataDir: dir, split: "test" });
  assert.deepEqual(values(test.labels), [0, 9, 9]);
  const train = data.loadDataset("cifar10", { dataDir: dir });
  assert.deepEqual(values(train.labels), [1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
  torch.tidy(() => assert.equal(train.images.select(0, 9).max().item(), 120));
  torch.dispose([test, train]);
  assert.equal(torch.memory().tensors, before);
});
