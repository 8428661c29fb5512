// A dataset stored as a folder of safetensors: what a study's derive-dataset job writes (x + δ
// with new labels), loadable by `advdyn train --dataset DIR` like any set.
//   DIR/dataset.json        { format, classes, shape, train, test | testFrom, provenance }
//   DIR/train.safetensors   images (float32 N×…, in [0, 1] for image sets), labels (int64 N)
//   DIR/test.safetensors    optional; without it the test split is `testFrom`'s (a named set)
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { readJson, writeJson } from "../util/json.js";
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";
import type { Dataset, Split } from "./dataset.js";
import { fileError } from "./files.js";

const FORMAT = "advdyn-dataset/1";

export interface FolderManifest {
  format: typeof FORMAT;
  name: string;
  classes: number;
  /** One example's shape. */
  shape: number[];
  /** Examples per stored split. */
  examples: Partial<Record<Split, number>>;
  /** The set whose test split this one's test split is, when the folder stores none (a folder's path relative to this one). */
  testFrom?: { name: string; options?: Record<string, unknown> };
  /** Where the data came from (source model, attack, scenario…): recorded, not read. */
  provenance: Record<string, unknown>;
}

export const folderFiles = (dir: string): string[] => ["dataset.json", "train.safetensors", "test.safetensors"].map((f) => join(dir, f)).filter((p) => existsSync(p));

export function readManifest(dir: string): FolderManifest {
  const path = join(dir, "dataset.json");
  const m = readJson<FolderManifest>(path);
  if (m === undefined) throw fileError(path, "missing; a dataset folder holds dataset.json and train.safetensors (written by a derive-dataset job)");
  if (m.format !== FORMAT) throw fileError(path, `format is ${JSON.stringify(m.format)}, expected "${FORMAT}"`);
  return m;
}

/**
 * Splits from this size on are memory-mapped. Smaller ones are read: a mapped file truncated in
 * place by another program would kill the process (SIGBUS), a risk worth taking only for sets that
 * would not fit in memory otherwise.
 */
const MAP_BYTES = 256 * 2 ** 20;

/**
 * A stored split of a dataset folder (the caller loads `testFrom` when the folder has no test
 * split). A large one is memory-mapped: batches read their examples from the page cache, so a set
 * larger than memory (paper B's 3.8 GB noise sets) costs no anonymous memory of its size.
 */
export function readFolderSplit(dir: string, split: Split): Dataset {
  const m = readManifest(dir);
  const path = join(dir, `${split}.safetensors`);
  if (!existsSync(path)) throw fileError(path, `missing: the dataset folder stores no ${split} split${m.testFrom ? "" : " and names no testFrom set"}`);
  const { tensors } = torch.loadSafetensors(path, { mmap: statSync(path).size >= MAP_BYTES });
  const images = tensors.get("images");
  const labels = tensors.get("labels");
  for (const t of tensors.values()) if (t !== images && t !== labels) t.dispose();
  if (!images || !labels) {
    torch.dispose([images, labels]);
    throw fileError(path, "expected tensors 'images' and 'labels'");
  }
  if (labels.dtype !== "int64" || labels.shape[0] !== images.shape[0] || images.shape.slice(1).join() !== m.shape.join()) {
    const got = `images [${images.shape.join(", ")}], labels ${labels.dtype}[${labels.shape.join(", ")}]`;
    torch.dispose([images, labels]);
    throw fileError(path, `expected images [N, ${m.shape.join(", ")}] and int64 labels [N]; got ${got}`);
  }
  return { images, labels, classes: m.classes, name: m.name };
}

/**
 * Writes a dataset folder: the manifest last, so a folder with dataset.json is complete. The
 * float32 images come as pieces of consecutive examples (each disposed once written), so a set
 * never exists whole in memory; `shape` is one example's.
 */
export function writeFolderDataset(dir: string, train: { images: Iterable<Tensor>; shape: number[]; labels: Tensor }, m: Omit<FolderManifest, "format" | "shape" | "examples">): FolderManifest {
  mkdirSync(dir, { recursive: true });
  const n = train.labels.shape[0]!;
  {
    using w = new torch.SafetensorsWriter(join(dir, "train.safetensors"), { images: { dtype: "float32", shape: [n, ...train.shape] }, labels: { dtype: "int64", shape: [n] } });
    for (const piece of train.images) {
      try {
        w.write("images", piece);
      } finally {
        piece.dispose();
      }
    }
    w.write("labels", train.labels);
    w.close();
  }
  const manifest: FolderManifest = { format: FORMAT, ...m, shape: train.shape, examples: { train: n } };
  writeJson(join(dir, "dataset.json"), manifest);
  return manifest;
}
