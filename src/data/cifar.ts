// CIFAR binary versions: fixed-size records of label byte(s) then 3072 pixels, channel-major (CHW).
import { closeSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import * as torch from "../torch/index.js";
import { NORMALIZATION, type Dataset, type Split } from "./dataset.js";
import { checkLabels, dataFolder, fileError, fileSize } from "./files.js";

const PIXELS = 3 * 32 * 32;

interface Layout {
  name: "cifar10" | "cifar100";
  folder: string;
  files: Record<Split, readonly string[]>;
  /** Label bytes before the pixels of each record. */
  labelBytes: number;
  hint: string;
}

const CIFAR10: Layout = {
  name: "cifar10",
  folder: "cifar-10-batches-bin",
  files: { train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), test: ["test_batch.bin"] },
  labelBytes: 1,
  hint: "the CIFAR-10 binary version: data_batch_1..5.bin, test_batch.bin; `advdyn data get cifar10` fetches it",
};

const CIFAR100: Layout = {
  name: "cifar100",
  folder: "cifar-100-binary",
  files: { train: ["train.bin"], test: ["test.bin"] },
  labelBytes: 2,
  hint: "the CIFAR-100 binary version: train.bin, test.bin; `advdyn data get cifar100` fetches it",
};

/** The files a split of CIFAR-10 or CIFAR-100 is read from. */
export function cifarFiles(name: "cifar10" | "cifar100", dir: string, split: Split): string[] {
  const layout = name === "cifar10" ? CIFAR10 : CIFAR100;
  const folder = dataFolder(dir, layout.folder);
  return layout.files[split].map((f) => join(folder, f));
}

/**
 * Reads a split's files into one uint8 tensor of records (N × record bytes), after checking that
 * each file exists and holds a whole, non-zero number of records.
 */
function readRecords(layout: Layout, dir: string, split: Split) {
  const record = layout.labelBytes + PIXELS;
  const files = cifarFiles(layout.name, dir, split).map((path) => {
    const size = fileSize(path, layout.hint);
    if (size === 0 || size % record !== 0) {
      throw fileError(path, `size ${size} is not a ${size === 0 ? "positive " : ""}multiple of the ${record}-byte record (${layout.labelBytes} label byte${layout.labelBytes > 1 ? "s" : ""} + ${PIXELS} pixels)`);
    }
    return { path, size, count: size / record };
  });
  // One buffer for all files: a 50k split is 150 MB, so no intermediate copies.
  const bytes = Buffer.allocUnsafe(files.reduce((a, f) => a + f.size, 0));
  let offset = 0;
  for (const f of files) {
    const fd = openSync(f.path, "r");
    try {
      for (let done = 0; done < f.size;) {
        const n = readSync(fd, bytes, offset + done, f.size - done, done);
        if (n === 0) throw fileError(f.path, `file shrank while being read (expected ${f.size} bytes)`);
        done += n;
      }
    } finally {
      closeSync(fd);
    }
    offset += f.size;
  }
  const n = bytes.length / record;
  const records = torch.tensor(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), { shape: [n, record] });
  const where = (i: number) => {
    let k = 0;
    while (i >= files[k]!.count) i -= files[k++]!.count;
    return `${files[k]!.path}: record ${i}`;
  };
  return { records, where };
}

export function readCifar10(dir: string, split: Split): Dataset {
  return torch.tidy(() => {
    const { records, where } = readRecords(CIFAR10, dir, split);
    const labels = records.select(1, 0).long();
    checkLabels(labels, 10, where);
    const images = records.narrow(1, 1, PIXELS).reshape(-1, 3, 32, 32);
    return { images, labels, classes: 10, name: "cifar10", normalization: NORMALIZATION.cifar10 };
  });
}

export interface Cifar100Options {
  /** The 100 fine classes (default) or the 20 coarse superclasses. */
  labels?: "fine" | "coarse";
}

export function readCifar100(dir: string, split: Split, o: Cifar100Options = {}): Dataset {
  const kind = o.labels ?? "fine";
  if (kind !== "fine" && kind !== "coarse") throw new RangeError(`labels: expected "fine" or "coarse", got ${JSON.stringify(kind)}`);
  return torch.tidy(() => {
    const { records, where } = readRecords(CIFAR100, dir, split);
    const coarse = records.select(1, 0).long();
    const fine = records.select(1, 1).long();
    checkLabels(coarse, 20, (i) => `${where(i)} (coarse label)`);
    checkLabels(fine, 100, (i) => `${where(i)} (fine label)`);
    const images = records.narrow(1, 2, PIXELS).reshape(-1, 3, 32, 32);
    const coarseOnly = kind === "coarse";
    return {
      images,
      labels: coarseOnly ? coarse : fine,
      classes: coarseOnly ? 20 : 100,
      name: coarseOnly ? "cifar100-coarse" : "cifar100",
      normalization: NORMALIZATION.cifar100,
    };
  });
}
