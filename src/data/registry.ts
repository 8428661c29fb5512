// Datasets by name, as the CLI and the studies refer to them.
import { homedir } from "node:os";
import { join } from "node:path";
import * as torch from "../torch/index.js";
import { readCifar10, readCifar100 } from "./cifar.js";
import { SPLITS, type Dataset, type Split } from "./dataset.js";
import { readMnist } from "./mnist.js";
import {
  fourierClasses, hiddenShortcut, orthogonal,
  type FourierClassesOptions, type HiddenShortcutOptions, type OrthogonalOptions,
} from "./synthetic.js";

export const DATASET_NAMES = ["cifar10", "cifar100", "mnist", "fashion-mnist", "fourier-classes", "hidden-shortcut", "orthogonal"] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];
/** The image sets a hidden shortcut can be added to. */
export type ImageDatasetName = Exclude<DatasetName, "hidden-shortcut" | "orthogonal">;
const IMAGE_DATASETS: readonly ImageDatasetName[] = ["cifar10", "cifar100", "mnist", "fashion-mnist", "fourier-classes"];

/** Where `advdyn data get` puts the sets by default. */
export const DEFAULT_DATA_DIR = join(homedir(), ".advdyn", "data");

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
}

/**
 * Loads a split of a dataset by name. Reading is synchronous, so the returned tensors belong to
 * the caller's current tidy scope (call it outside one, or keep() them, for a long-lived set);
 * free them with `torch.dispose(dataset)`.
 */
export function loadDataset(name: DatasetName, o: LoadOptions = {}): Dataset {
  const dir = o.dataDir ?? DEFAULT_DATA_DIR;
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
    default:
      throw new RangeError(`dataset: expected one of ${DATASET_NAMES.join(", ")}, got ${JSON.stringify(name)}`);
  }
}
