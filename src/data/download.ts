// Fetching the real datasets: stream to a temporary name, check SHA-256, rename when complete.
import { createHash } from "node:crypto";
import { createWriteStream, existsSync, fsyncSync, closeSync, mkdirSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as torch from "../torch/index.js";
import { sha256File } from "../util/hash.js";
import { readJson, writeJson } from "../util/json.js";
import { Progress } from "../util/progress.js";
import { extractTarGz } from "./tar.js";

export interface RemoteFile {
  name: string;
  sha256: string;
  /** Bytes, when known: a server announcing another length is refused before downloading. */
  size?: number;
  /** Other accepted contents: the same data packed otherwise (Debian's re-compressed Fashion-MNIST). */
  variants?: readonly { sha256: string; size: number }[];
}

export interface DownloadSource {
  name: string;
  baseUrl: string;
  /** Sub-folder of the data folder that receives the files ("" for the data folder itself). */
  folder: string;
  files: readonly RemoteFile[];
  /** The files are .tar.gz archives to unpack into the folder (they are kept beside it). */
  extract?: boolean;
  /** Paths, relative to the folder, whose presence means the set is ready to read. */
  ready: readonly string[];
  /** Known sizes of ready paths that are not downloaded files (those an archive unpacks to). */
  sizes?: Readonly<Record<string, number>>;
}

const MNIST_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

/**
 * Where each set comes from. The authors publish MD5 sums only; these SHA-256 sums are the ones
 * TensorFlow Datasets registers for the same URLs (tensorflow_datasets/url_checksums), and several
 * independent projects list the same values. MNIST comes from the CVDF mirror because
 * yann.lecun.com refuses automated downloads; the files are the same bytes.
 */
export const SOURCES = {
  cifar10: {
    name: "cifar10",
    baseUrl: "https://www.cs.toronto.edu/~kriz/",
    folder: "",
    files: [{ name: "cifar-10-binary.tar.gz", size: 170052171, sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd" }],
    extract: true,
    ready: [1, 2, 3, 4, 5].map((i) => `cifar-10-batches-bin/data_batch_${i}.bin`).concat("cifar-10-batches-bin/test_batch.bin"),
    // 10,000 records of 1 label byte + 3072 pixels each.
    sizes: Object.fromEntries([1, 2, 3, 4, 5].map((i) => `cifar-10-batches-bin/data_batch_${i}.bin`).concat("cifar-10-batches-bin/test_batch.bin").map((f) => [f, 10000 * 3073])),
  },
  cifar100: {
    name: "cifar100",
    baseUrl: "https://www.cs.toronto.edu/~kriz/",
    folder: "",
    files: [{ name: "cifar-100-binary.tar.gz", size: 168513733, sha256: "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec" }],
    extract: true,
    ready: ["cifar-100-binary/train.bin", "cifar-100-binary/test.bin"],
    // Records of 2 label bytes + 3072 pixels: 50,000 train, 10,000 test.
    sizes: { "cifar-100-binary/train.bin": 50000 * 3074, "cifar-100-binary/test.bin": 10000 * 3074 },
  },
  mnist: {
    name: "mnist",
    baseUrl: "https://storage.googleapis.com/cvdf-datasets/mnist/",
    folder: "mnist",
    files: [
      { name: MNIST_FILES[0]!, size: 9912422, sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609" },
      { name: MNIST_FILES[1]!, size: 28881, sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c" },
      { name: MNIST_FILES[2]!, size: 1648877, sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6" },
      { name: MNIST_FILES[3]!, size: 4542, sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6" },
    ],
    ready: MNIST_FILES,
  },
  "fashion-mnist": {
    name: "fashion-mnist",
    baseUrl: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    folder: "fashion-mnist",
    files: [
      // Variants: Debian's dataset-fashion-mnist package, the same files re-compressed without their gzip name.
      { name: MNIST_FILES[0]!, size: 26421880, sha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", variants: [{ size: 26421856, sha256: "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7" }] },
      { name: MNIST_FILES[1]!, size: 29515, sha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", variants: [{ size: 29491, sha256: "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056" }] },
      { name: MNIST_FILES[2]!, size: 4422102, sha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", variants: [{ size: 4422079, sha256: "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa" }] },
      { name: MNIST_FILES[3]!, size: 5148, sha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", variants: [{ size: 5125, sha256: "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05" }] },
    ],
    ready: MNIST_FILES,
  },
} as const satisfies Record<string, DownloadSource>;

export type DownloadName = keyof typeof SOURCES;
export const DOWNLOAD_NAMES = Object.keys(SOURCES) as DownloadName[];

export interface DownloadProgress {
  file: string;
  bytes: number;
  /** Expected bytes, when the server or the source says. */
  total: number | undefined;
}

export interface DownloadOptions {
  /** The data folder (sets go to sub-folders, as `loadDataset` expects). */
  dir: string;
  /** Replaces the source's base URL (a mirror, or a local server in tests). */
  baseUrl?: string;
  /** Called as bytes arrive; without it a progress bar is drawn on stderr. */
  onProgress?: (p: DownloadProgress) => void;
  /** Seconds without data before a transfer is abandoned (default 60). */
  idleTimeout?: number;
}

export interface DownloadResult {
  /** The folder holding the set's files. */
  folder: string;
  /** Files transferred by this call (empty when the set was already there). */
  fetched: string[];
  /** Damage found in what was there (a file missing, cut short or changed), repaired by this call. */
  repaired: string[];
}

export async function downloadDataset(name: DownloadName, o: DownloadOptions): Promise<DownloadResult> {
  const source: DownloadSource | undefined = SOURCES[name];
  if (!source) throw new RangeError(`downloadDataset: expected one of ${DOWNLOAD_NAMES.join(", ")}, got ${JSON.stringify(name)}`);
  return download(source, o);
}

/** What a verified set's files were: `<folder>/.advdyn-<name>.json`, written once they were checked. */
interface Manifest {
  files: Record<string, { bytes: number; sha256: string }>;
}
const manifestPath = (source: DownloadSource, folder: string) => join(folder, `.advdyn-${source.name}.json`);

const accepted = (f: RemoteFile) => [{ sha256: f.sha256, size: f.size }, ...(f.variants ?? [])];

/**
 * What is wrong with a set's ready files, in words (empty when intact): each must exist, have its
 * known size, and the SHA-256 its manifest (or, for a downloaded file, the source) records.
 */
function damage(source: DownloadSource, folder: string): string[] {
  const manifest = readJson<Manifest>(manifestPath(source, folder));
  const problems: string[] = [];
  for (const f of source.ready) {
    const path = join(folder, f);
    if (!existsSync(path)) {
      problems.push(`${path}: missing`);
      continue;
    }
    const bytes = statSync(path).size;
    const remote = source.files.find((r) => r.name === f);
    const known = manifest?.files[f];
    const sizes = known ? [known.bytes] : remote ? accepted(remote).flatMap((v) => (v.size === undefined ? [] : [v.size])) : source.sizes?.[f] === undefined ? [] : [source.sizes[f]!];
    if (sizes.length > 0 && !sizes.includes(bytes)) {
      problems.push(`${path}: ${bytes} bytes, expected ${sizes.join(" or ")}`);
      continue;
    }
    const digests = known ? [known.sha256] : remote ? accepted(remote).map((v) => v.sha256) : [];
    if (digests.length > 0 && !digests.includes(sha256File(path))) problems.push(`${path}: its SHA-256 does not match the ${known ? "one recorded when it was verified" : "expected one"}`);
  }
  return problems;
}

/**
 * Makes a source's files present and verified under o.dir. What is there is checked first (sizes,
 * and SHA-256 against the source or the manifest written after the last verified download); a
 * damaged set is repaired: re-extracted from its kept, verified archive, or fetched again. Each
 * transfer goes to `<file>.part` and is renamed only once complete and verified, so an interrupted
 * or corrupted download leaves no file under the final name and a rerun starts clean.
 */
export async function download(source: DownloadSource, o: DownloadOptions): Promise<DownloadResult> {
  const folder = join(o.dir, source.folder);
  const problems = damage(source, folder);
  if (problems.length === 0) return { folder, fetched: [], repaired: [] };
  // Damage is worth reporting in a set that was there (not in a folder that never held it).
  const had = existsSync(manifestPath(source, folder)) || source.ready.some((f) => existsSync(join(folder, f)));
  mkdirSync(folder, { recursive: true });
  const fetched: string[] = [];
  for (const file of source.files) {
    const dest = join(folder, file.name);
    if (!existsSync(dest) || !accepted(file).some((v) => v.sha256 === sha256File(dest))) {
      await fetchVerified(new URL(file.name, (o.baseUrl ?? source.baseUrl).replace(/\/?$/, "/")), dest, file, o);
      fetched.push(file.name);
    }
    if (source.extract) await extractTarGz(dest, folder);
  }
  const left = damage(source, folder);
  if (left.length > 0) throw new Error(`${source.name}: after download and extraction, ${left.join("; ")}`);
  writeJson(manifestPath(source, folder), {
    files: Object.fromEntries(source.ready.map((f) => [f, { bytes: statSync(join(folder, f)).size, sha256: sha256File(join(folder, f)) }])),
  } satisfies Manifest);
  return { folder, fetched, repaired: had ? problems : [] };
}

const MAX_REDIRECTS = 5;

/** The response to a GET of url, after redirects; rejects on any status but 200. */
function get(url: URL, idleSeconds: number, redirects = 0): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === "https:" ? https : url.protocol === "http:" ? http : undefined;
    if (!client) return reject(new Error(`${url}: only http and https URLs can be downloaded`));
    const req = client.get(url, { headers: { "user-agent": "advdyn" } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new Error(`${url}: more than ${MAX_REDIRECTS} redirects`));
        return resolve(get(new URL(res.headers.location, url), idleSeconds, redirects + 1));
      }
      if (status !== 200) {
        res.resume();
        return reject(new Error(`${url}: HTTP ${status} ${res.statusMessage ?? ""}`.trimEnd()));
      }
      resolve(res);
    });
    req.setTimeout(idleSeconds * 1000, () => req.destroy(new Error(`${url}: no data for ${idleSeconds} s`)));
    req.on("error", (e) => reject(e.message.startsWith(String(url)) ? e : new Error(`${url}: ${e.message}`)));
  });
}

async function fetchVerified(url: URL, dest: string, file: RemoteFile, o: DownloadOptions): Promise<void> {
  const part = `${dest}.part`;
  try {
    const res = await get(url, o.idleTimeout ?? 60);
    const announced = res.headers["content-length"] === undefined ? undefined : Number(res.headers["content-length"]);
    const sizes = accepted(file).flatMap((v) => (v.size === undefined ? [] : [v.size]));
    if (sizes.length > 0 && announced !== undefined && !sizes.includes(announced)) {
      res.destroy();
      throw new Error(`${url}: the server announces ${announced} bytes, expected ${sizes.join(" or ")}`);
    }
    const total = announced ?? (sizes.length === 1 ? sizes[0] : undefined);
    const report = o.onProgress ?? progressBar(file.name, total);
    const hash = createHash("sha256");
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        try {
          torch.checkInterrupt();
        } catch (e) {
          return done(e as Error);
        }
        hash.update(chunk);
        bytes += chunk.length;
        report({ file: file.name, bytes, total });
        done(null, chunk);
      },
    });
    try {
      await pipeline(res, meter, createWriteStream(part));
    } catch (e) {
      if (e instanceof torch.Interrupted) throw e;
      throw new Error(`${url}: transfer failed after ${bytes} bytes (${(e as Error).message}); nothing was kept, run again to retry`);
    }
    if (total !== undefined && bytes !== total) throw new Error(`${url}: received ${bytes} bytes, expected ${total}; nothing was kept, run again to retry`);
    const digest = hash.digest("hex");
    if (!accepted(file).some((v) => v.sha256 === digest)) throw new Error(`${url}: SHA-256 ${digest} does not match the expected ${file.sha256}; nothing was kept`);
    const fd = openSync(part, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(part, dest);
  } catch (e) {
    rmSync(part, { force: true });
    throw e;
  }
}

/** A Progress bar counted in whole MiB (byte counts would be unreadable). */
function progressBar(label: string, total: number | undefined): (p: DownloadProgress) => void {
  if (!total) return () => {};
  const MiB = 1 << 20;
  const bar = new Progress(label, Math.ceil(total / MiB), "MiB");
  let shown = 0;
  return ({ bytes }) => {
    const now = bytes >= total ? Math.ceil(total / MiB) : Math.floor(bytes / MiB);
    if (now > shown) {
      bar.tick(now - shown);
      shown = now;
    }
  };
}
