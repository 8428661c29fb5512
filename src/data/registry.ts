// Datasets by name, as the CLI and the studies refer to them.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { isAbsolute, join as joinPath } from "node:path";
import * as torch from "../torch/index.js";
import { cifarFiles, readCifar10, readCifar100 } from "./cifar.js";
import { SPLITS, type Dataset, type Split } from "./dataset.js";
import { folderFiles, readFolderSplit, readManifest } from "./folder.js";
import { filesDigest } from "./identity.js";
import { mnistFiles, readMnist } from "./mnist.js";
import {
  FOURIER_CLASSES_DEFAULTS, fourierClasses, hiddenShortcut, orthogonal,
  type FourierClassesOptions, type HiddenShortcutOptions, type OrthogonalOptions,
} from "./synthetic.js";

export const DATASET_NAMES = ["cifar10", "cifar100", "mnist", "fashion-mnist", "fourier-classes", "hidden-shortcut", "orthogonal", "folder"] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];
/** The sets known by name alone (a folder dataset also needs its path). */
export const NAMED_DATASETS: readonly DatasetName[] = DATASET_NAMES.filter((d) => d !== "folder");
/** The image sets a hidden shortcut can be added to. */
export type ImageDatasetName = Exclude<DatasetName, "hidden-shortcut" | "orthogonal" | "folder">;
const IMAGE_DATASETS: readonly ImageDatasetName[] = ["cifar10", "cifar100", "mnist", "fashion-mnist", "fourier-classes"];

/** Where `advdyn data get` puts the sets by default. */
export const DEFAULT_DATA_DIR = join(homedir(), ".advdyn", "data");
/** Where Debian's dataset packages put sets (apt-get install dataset-fashion-mnist). */
export const SYSTEM_DATA_DIR = "/usr/share/datasets";

/** The data folder of a real set when none is given: the user's, else the system's when only it holds the set. */
function defaultDataDir(name: DatasetName, o: LoadOptions): string {
  const has = (dir: string) => datasetFiles(name, { ...o, dataDir: dir }).every((f) => existsSync(f));
  return has(DEFAULT_DATA_DIR) || !has(SYSTEM_DATA_DIR) ? DEFAULT_DATA_DIR : SYSTEM_DATA_DIR;
}

export interface LoadOptions {
  /** Folder of the real sets (default ~/.advdyn/data). */
  dataDir?: string;
  /** Default "train". */
  split?: Split;
  /** CIFAR-100: fine (100, default) or coarse (20) classes. */
  labels?: "fine" | "coarse";
  fourierClasses?: FourierClassesOptions;
  /** hidden-shortcut: the shortcut, and the set it is added to (default cifar10, as in paper A). */
  hiddenShortcut?: HiddenShortcutOptions & { base?: ImageDatasetName };
  orthogonal?: OrthogonalOptions;
  /** folder: a dataset folder (data/folder.ts), e.g. one a derive-dataset job wrote. */
  folder?: string;
}

/** A dataset as runs and studies name it: its name and options (run.json records it). */
export interface DatasetRef {
  name: DatasetName;
  options?: Pick<LoadOptions, "fourierClasses" | "hiddenShortcut" | "orthogonal" | "labels" | "folder">;
}

/** [C, H, W] of an image set's examples, known without reading it (studies size their models by it). */
export function imageShape(ref: DatasetRef): [number, number, number] {
  switch (ref.name) {
    case "cifar10":
    case "cifar100":
      return [3, 32, 32];
    case "mnist":
    case "fashion-mnist":
      return [1, 28, 28];
    case "fourier-classes": {
      const o = { ...FOURIER_CLASSES_DEFAULTS, ...ref.options?.fourierClasses };
      return [o.channels, o.size, o.size];
    }
    case "hidden-shortcut":
      return imageShape({ name: ref.options?.hiddenShortcut?.base ?? "cifar10", options: ref.options });
    default:
      throw new RangeError(`imageShape: ${ref.name} is not an image set of known shape`);
  }
}

/** Whether a real set's files are all there (in dataDir, or else the user's or the system's data folder); generated sets always are. */
export function datasetAvailable(name: DatasetName, dataDir?: string): boolean {
  return datasetFiles(name, dataDir ? { dataDir } : {}).every((f) => existsSync(f));
}

/**
 * Loads a split of a dataset by name. Reading is synchronous, so the returned tensors belong to
 * the caller's current tidy scope (call it outside one, or keep() them, for a long-lived set);
 * free them with `torch.dispose(dataset)`.
 */
export function loadDataset(name: DatasetName, o: LoadOptions = {}): Dataset {
  const dir = o.dataDir ?? defaultDataDir(name, o);
  const split = o.split ?? "train";
  if (!SPLITS.includes(split)) throw new RangeError(`split: expected ${SPLITS.join(" or ")}, got ${JSON.stringify(split)}`);
  switch (name) {
    case "cifar10":
      return readCifar10(dir, split);
    case "cifar100":
      return readCifar100(dir, split, { labels: o.labels });
    case "mnist":
    case "fashion-mnist":
      return readMnist(dir, split, name);
    case "fourier-classes":
      return fourierClasses(split, o.fourierClasses);
    case "hidden-shortcut": {
      const base = o.hiddenShortcut?.base ?? "cifar10";
      if (!IMAGE_DATASETS.includes(base)) throw new RangeError(`hiddenShortcut.base: expected one of ${IMAGE_DATASETS.join(", ")}, got ${JSON.stringify(base)}`);
      return torch.tidy(() => hiddenShortcut(loadDataset(base, o), o.hiddenShortcut));
    }
    case "orthogonal":
      return orthogonal(split, o.orthogonal);
    case "folder": {
      if (o.folder === undefined) throw new RangeError("folder: the dataset folder is required (options.folder)");
      const m = readManifest(o.folder);
      if (split === "test" && m.examples.test === undefined && m.testFrom) {
        const from = resolveRef(m.testFrom as DatasetRef, o.folder);
        return loadDataset(from.name, { ...from.options, dataDir: o.dataDir, split });
      }
      return readFolderSplit(o.folder, split);
    }
    default:
      throw new RangeError(`dataset: expected one of ${DATASET_NAMES.join(", ")}, got ${JSON.stringify(name)}`);
  }
}

/** The files a dataset is read from (both splits); none for generated sets. */
export function datasetFiles(name: DatasetName, o: LoadOptions = {}): string[] {
  const dir = o.dataDir ?? defaultDataDir(name, o);
  switch (name) {
    case "cifar10":
    case "cifar100":
      return SPLITS.flatMap((s) => cifarFiles(name, dir, s));
    case "mnist":
    case "fashion-mnist":
      return SPLITS.flatMap((s) => mnistFiles(dir, s, name));
    case "hidden-shortcut":
      return datasetFiles(o.hiddenShortcut?.base ?? "cifar10", o);
    case "folder": {
      if (o.folder === undefined) return [];
      const m = readManifest(o.folder);
      const from = m.testFrom && resolveRef(m.testFrom as DatasetRef, o.folder);
      return [...folderFiles(o.folder), ...(from ? datasetFiles(from.name, { ...from.options, dataDir: o.dataDir }) : [])];
    }
    default:
      return [];
  }
}

/** A folder dataset's path resolved against `base` (a run folder) when relative. */
export function resolveRef(ref: DatasetRef, base?: string): DatasetRef {
  const folder = ref.options?.folder;
  if (folder === undefined || base === undefined || isAbsolute(folder)) return ref;
  return { ...ref, options: { ...ref.options, folder: joinPath(base, folder) } };
}

/**
 * The identity of a dataset's content: the SHA-256 of its files ('' for generated sets, which
 * their options determine). Missing files are an error naming them.
 */
export function dataIdentity(ref: DatasetRef, dataDir?: string): string {
  return filesDigest(datasetFiles(ref.name, { ...ref.options, dataDir }));
}

/** The first `n` examples of a split (all when n is undefined or larger). */
export function loadSplit(ref: DatasetRef, split: Split, n: number | undefined, dataDir?: string): Dataset {
  const ds = loadDataset(ref.name, { ...ref.options, dataDir, split });
  if (n === undefined || n >= ds.labels.shape[0]!) return ds;
  const cut = { ...ds, images: ds.images.narrow(0, 0, n).clone(), labels: ds.labels.narrow(0, 0, n).clone() };
  torch.dispose([ds.images, ds.labels]);
  return cut;
}
