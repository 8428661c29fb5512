// `advdyn data`: fetch the real datasets and describe any dataset. Parses and prints only.
import {
  DEFAULT_DATA_DIR, NAMED_DATASETS, DOWNLOAD_NAMES, SPLITS, downloadDataset, labelCounts, loadDataset,
  type DatasetName, type DownloadName, type Split,
} from "../data/index.js";
import * as torch from "../torch/index.js";
import { choice, parse } from "./options.js";
import { UsageError } from "./usage.js";

export const DATA_USAGE = `usage: advdyn data get <${DOWNLOAD_NAMES.join("|")}> [--dir DIR]
       advdyn data info <name> [--data-dir DIR] [--split train|test]

  get    download a dataset, check its SHA-256 and unpack it into DIR (default ~/.advdyn/data)
  info   examples, shape, classes and examples per class; names: ${NAMED_DATASETS.join(", ")}`;

/** The one positional argument of `data get|info`: a dataset name among `allowed`. */
function datasetName<T extends string>(sub: string, positionals: string[], allowed: readonly T[]): T {
  if (positionals.length > 1) throw new UsageError(`data ${sub}: expected one dataset name, got ${positionals.length} (${positionals.join(" ")})`);
  const [name] = positionals;
  if (name === undefined) throw new UsageError(`data ${sub}: missing the dataset; expected one of ${allowed.join(", ")}`);
  if (!(allowed as readonly string[]).includes(name)) throw new UsageError(`data ${sub}: dataset: expected one of ${allowed.join(", ")}, got '${name}'`);
  return name as T;
}

export async function dataCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h") {
    console.log(DATA_USAGE);
    return 0;
  }
  if (sub === "get") {
    const { values, positionals } = parse(rest, { dir: { type: "string" }, help: { type: "boolean" } });
    if (values.help) return (console.log(DATA_USAGE), 0);
    const name = datasetName<DownloadName>(sub, positionals, DOWNLOAD_NAMES);
    const { folder, fetched } = await downloadDataset(name, { dir: values.dir ?? DEFAULT_DATA_DIR });
    console.log(fetched.length > 0 ? `${name}: fetched ${fetched.join(", ")}; ready in ${folder}` : `${name}: already present in ${folder}`);
    return 0;
  }
  if (sub === "info") {
    const { values, positionals } = parse(rest, { "data-dir": { type: "string" }, split: { type: "string" }, help: { type: "boolean" } });
    if (values.help) return (console.log(DATA_USAGE), 0);
    const name = datasetName<DatasetName>(sub, positionals, NAMED_DATASETS);
    const splits = values.split === undefined ? SPLITS : [choice<Split>("split", values.split, SPLITS, "train")];
    for (const split of splits) {
      const ds = loadDataset(name, { dataDir: values["data-dir"], split });
      try {
        const [n, ...shape] = ds.images.shape;
        console.log(`${ds.name} ${split}: ${n} examples, ${ds.images.dtype} ${shape.join("×")}, ${ds.classes} classes`);
        console.log(`  examples per class: ${labelCounts(ds).join(" ")}`);
        if (ds.normalization) console.log(`  normalization: mean ${ds.normalization.mean.join(" ")}, std ${ds.normalization.std.join(" ")}`);
      } finally {
        torch.dispose(ds);
      }
    }
    return 0;
  }
  throw new UsageError(sub === undefined ? "data: missing subcommand; expected get or info" : `data: unknown subcommand '${sub}'; expected get or info`);
}
