// MNIST and Fashion-MNIST: IDX files (big-endian header, then uint8 values), raw or gzipped.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import * as torch from "../torch/index.js";
import { NORMALIZATION, type Dataset, type Split } from "./dataset.js";
import { checkLabels, dataFolder, fileError, readFile } from "./files.js";

const UBYTE = 0x08;
const FILES: Record<Split, { images: string; labels: string }> = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte" },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte" },
};

export interface IdxArray {
  path: string;
  dims: number[];
  /** The values, row-major, without the header. */
  data: Uint8Array;
}

const hex = (v: number) => `0x${v.toString(16).padStart(8, "0")}`;

/**
 * Reads a uint8 IDX file of `ndim` dimensions, gunzipping it first when it starts with the gzip
 * magic (whatever its name), and checks that its size is exactly header + product of dims.
 */
export function readIdx(path: string, ndim: number, hint: string): IdxArray {
  let bytes: Buffer = readFile(path, hint);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw fileError(path, `not a valid gzip file (${(e as Error).message})`);
    }
  }
  const header = 4 + 4 * ndim;
  if (bytes.length < header) throw fileError(path, `size ${bytes.length} is smaller than the ${header}-byte header of a ${ndim}-dimensional IDX file`);
  const magic = bytes.readUInt32BE(0);
  const expected = (UBYTE << 8) | ndim;
  if (magic !== expected) throw fileError(path, `IDX magic ${hex(magic)} is not ${hex(expected)} (uint8, ${ndim} dimension${ndim > 1 ? "s" : ""})`);
  const dims = Array.from({ length: ndim }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  const want = header + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== want) {
    throw fileError(path, `size ${bytes.length} does not match its header (${dims.join("×")} values + ${header}-byte header = ${want} bytes)`);
  }
  return { path, dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + header, want - header) };
}

/** `name` in folder, or `name.gz`; the raw file wins when both exist. */
function findIdx(folder: string, name: string): string {
  const raw = join(folder, name);
  return existsSync(raw) || !existsSync(`${raw}.gz`) ? raw : `${raw}.gz`;
}

export type MnistName = "mnist" | "fashion-mnist";

/** The image and label files a split is read from. */
export function mnistFiles(dir: string, split: Split, name: MnistName = "mnist"): [images: string, labels: string] {
  const folder = dataFolder(dir, name);
  return [findIdx(folder, FILES[split].images), findIdx(folder, FILES[split].labels)];
}

export function readMnist(dir: string, split: Split, name: MnistName = "mnist"): Dataset {
  const hint = `${name}'s IDX files ${FILES.train.images}, ${FILES.train.labels}, ${FILES.test.images} and ${FILES.test.labels}, raw or .gz; \`advdyn data get ${name}\` fetches them`;
  const [imagesPath, labelsPath] = mnistFiles(dir, split, name);
  const images = readIdx(imagesPath, 3, hint);
  const labels = readIdx(labelsPath, 1, hint);
  const [n, h, w] = images.dims as [number, number, number];
  if (labels.dims[0] !== n) throw fileError(labels.path, `holds ${labels.dims[0]} labels but ${images.path} holds ${n} images`);
  return torch.tidy(() => {
    const y = torch.tensor(labels.data).long();
    checkLabels(y, 10, (i) => `${labels.path}: entry ${i}`);
    return {
      images: torch.tensor(images.data, { shape: [n, 1, h, w] }),
      labels: y,
      classes: 10,
      name,
      normalization: NORMALIZATION[name],
    };
  });
}
