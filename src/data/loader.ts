// Batches for training and evaluation: seeded order and augmentation, resumable at any batch.
import * as torch from "../torch/index.js";
import type { Device, Tensor } from "../torch/index.js";
import type { Dataset } from "./dataset.js";
import { checkSeed, deriveSeed } from "./seed.js";

export interface LoaderOptions {
  batchSize: number;
  /** Reshuffle every epoch (default true); false keeps the dataset's order. */
  shuffle?: boolean;
  /** Seed of the order and of the augmentation (default 0). */
  seed?: number;
  /** Skip the last, short batch (paper B's setting). */
  dropLast?: boolean;
  /** Random crop with 4-pixel zero padding and horizontal flip (the usual CIFAR augmentation). */
  augment?: boolean;
  device?: Device;
}

export interface Batch {
  /** float32 B×C×H×W in [0,1] (hidden-shortcut sets may exceed it slightly). */
  x: Tensor;
  /** int64 B. */
  y: Tensor;
}

const PAD = 4;

/**
 * Serves a dataset in batches. The order of epoch e and the augmentation of batch b depend only
 * on (seed, e, b), so a run resumed at (epoch, batch) sees exactly what an uninterrupted one would.
 *
 * Memory: `batch()` and the iterators create the batch's tensors in the caller's current scope.
 * Call `batch()` inside the `torch.tidy` of the training step, or dispose what an iterator yields
 * (`torch.dispose(batch)`) once done with it; otherwise every batch of the epoch stays alive.
 */
export class DataLoader {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly augment: boolean;
  readonly device: Device;
  #epoch = -1;
  #order: BigInt64Array | undefined;

  constructor(dataset: Dataset, o: LoaderOptions) {
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new RangeError(`batchSize: expected a positive integer, got ${o.batchSize}`);
    if (o.augment && dataset.images.ndim !== 4) {
      throw new RangeError(`augment: needs N×C×H×W images, but ${dataset.name} has shape [${dataset.images.shape.join(", ")}]`);
    }
    this.dataset = dataset;
    this.batchSize = o.batchSize;
    this.shuffle = o.shuffle ?? true;
    this.seed = checkSeed(o.seed ?? 0);
    this.dropLast = o.dropLast ?? false;
    this.augment = o.augment ?? false;
    this.device = o.device ?? "cpu";
  }

  get size(): number {
    return this.dataset.labels.shape[0]!;
  }

  /** Batches per epoch. */
  get length(): number {
    return this.dropLast ? Math.floor(this.size / this.batchSize) : Math.ceil(this.size / this.batchSize);
  }

  /** The example indices of an epoch, in the order they are served. */
  order(epoch: number): BigInt64Array {
    return this.#orderOf(epoch).slice();
  }

  /** The order of the last epoch asked for is kept, so batches of an epoch cost no reshuffle. */
  #orderOf(epoch: number): BigInt64Array {
    if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`epoch: expected a non-negative integer, got ${epoch}`);
    if (this.#epoch !== epoch || !this.#order) {
      using g = new torch.Generator(deriveSeed(this.seed, "order", epoch));
      this.#order = torch.tidy(() => (this.shuffle ? torch.randperm(this.size, { generator: g }) : torch.arange(this.size)).toTypedArray() as BigInt64Array);
      this.#epoch = epoch;
    }
    return this.#order;
  }

  /** Batch `index` of `epoch`, created in the caller's scope. */
  batch(epoch: number, index: number): Batch {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`batch index: expected an integer in [0, ${this.length}), got ${index}`);
    }
    const ids = this.#orderOf(epoch).subarray(index * this.batchSize, Math.min((index + 1) * this.batchSize, this.size));
    return torch.tidy(() => {
      const idx = torch.tensor(ids);
      // moved before the float conversion: uint8 is a quarter of the bytes to copy to a GPU
      const images = this.#toDevice(this.dataset.images.indexSelect(0, idx));
      let x = images.dtype === "uint8" ? images.to("float32").div(255) : images.to("float32");
      if (this.augment) {
        using g = new torch.Generator(deriveSeed(this.seed, "augment", epoch, index));
        x = cropAndFlip(x, g);
      }
      return { x, y: this.#toDevice(this.dataset.labels.indexSelect(0, idx)) };
    });
  }

  #toDevice(t: Tensor): Tensor {
    return this.device === "cpu" ? t : t.to(this.device);
  }

  /** The batches of an epoch from batch `start` on (to resume mid-epoch); see the class note on memory. */
  *epoch(epoch: number, start = 0): IterableIterator<Batch> {
    for (let b = start; b < this.length; b++) yield this.batch(epoch, b);
  }
}

/**
 * Per image: a random H×W window of the image zero-padded by 4 pixels on each side, mirrored
 * left-right with probability 1/2 (torchvision's RandomCrop(32, padding=4) + RandomHorizontalFlip).
 * Both are one gather per axis on index maps, so the batch is transformed without a loop.
 */
export function cropAndFlip(x: Tensor, g: torch.Generator): Tensor {
  const [b, c, h, w] = x.shape as [number, number, number, number];
  const device = x.device;
  return torch.tidy(() => {
    const padded = torch.nn.functional.pad(x, [PAD, PAD, PAD, PAD]);
    const offsets = torch.randint(0, 2 * PAD + 1, [b, 2], { generator: g, device });
    const flip = torch.randint(0, 2, [b, 1], { generator: g, device });
    const rows = offsets.narrow(1, 0, 1).add(torch.arange(h, undefined, 1, { device }).reshape(1, h));
    const j = torch.arange(w, undefined, 1, { device }).reshape(1, w);
    // flipped: column w−1−j of the window instead of j
    const cols = offsets.narrow(1, 1, 1).add(j.add(flip.mul(j.mul(-2).add(w - 1))));
    const byRow = padded.gather(2, rows.reshape(b, 1, h, 1).expand(b, c, h, w + 2 * PAD));
    return byRow.gather(3, cols.reshape(b, 1, 1, w).expand(b, c, h, w));
  });
}
