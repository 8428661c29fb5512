// Shared by the readers: finding files, and a label check that names the offending record.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";

/** An error about one data file: the message starts with its path. */
export function fileError(path: string, problem: string): Error {
  return new Error(`${path}: ${problem}`);
}

/**
 * The folder holding a set's files: `sub` inside dir when present (the layout `advdyn data get`
 * produces, e.g. cifar-10-batches-bin/), else dir itself (files copied there by hand).
 */
export function dataFolder(dir: string, sub: string): string {
  const nested = join(dir, sub);
  return existsSync(nested) && statSync(nested).isDirectory() ? nested : dir;
}

/** Size of a file that must exist, with a hint on how to get it. */
export function fileSize(path: string, hint: string): number {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw fileError(path, `missing; expected ${hint}`);
  }
  if (!st.isFile()) throw fileError(path, `not a regular file; expected ${hint}`);
  return st.size;
}

export function readFile(path: string, hint: string): Buffer {
  fileSize(path, hint);
  return readFileSync(path);
}

/**
 * Throws unless every label is in [0, classes); `where(i)` names the file and record of the
 * i-th label, since a bad byte is only useful to someone who can find it.
 */
export function checkLabels(labels: Tensor, classes: number, where: (i: number) => string): void {
  const bad = torch.tidy(() => {
    const mask = labels.ge(classes).logicalOr(labels.lt(0));
    if (!torch.any(mask).item()) return undefined;
    const i = mask.to("uint8").argmax().item();
    return { i, value: labels.select(0, i).item() };
  });
  if (bad) throw new Error(`${where(bad.i)} has label ${bad.value}, expected 0..${classes - 1}`);
}
