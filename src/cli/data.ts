// `advdyn data`: fetch the real datasets and describe any dataset. Parses and prints only.
import { Argument, Command, Option } from "commander";
import { DEFAULT_DATA_DIR, DOWNLOAD_NAMES, NAMED_DATASETS, SPLITS, type DatasetName, type DownloadName, type Split, downloadDataset, labelCounts, loadDataset } from "../data/index.js";
import * as torch from "../torch/index.js";

export function dataCommand(): Command {
  const data = new Command("data");
  data.command("get")
    .description("download a dataset, check its SHA-256 and unpack it into DIR")
    .addArgument(new Argument("<name>", "the dataset").choices(DOWNLOAD_NAMES))
    .option("--dir <dir>", "where to put it (default ~/.advdyn/data)")
    .option("--mirror <url>", "fetch the set's files from this base URL instead (a mirror, a proxy, a local server; default $ADVDYN_DATA_MIRROR)")
    .action(async (name: DownloadName, o: { dir?: string; mirror?: string }) => {
      torch.watchInterrupts();
      const mirror = o.mirror ?? process.env.ADVDYN_DATA_MIRROR;
      const { folder, fetched, repaired } = await downloadDataset(name, { dir: o.dir ?? DEFAULT_DATA_DIR, ...(mirror ? { baseUrl: mirror } : {}) });
      for (const problem of repaired) console.log(`damaged: ${problem}; repaired`);
      console.log(fetched.length > 0 ? `${name}: fetched ${fetched.join(", ")}; verified and ready in ${folder}` : `${name}: ${repaired.length ? "repaired" : "already present"} and verified in ${folder}`);
    });
  data.command("info")
    .description("examples, shape, classes and examples per class of a dataset")
    .addArgument(new Argument("<name>", "the dataset").choices(NAMED_DATASETS))
    .option("--data-dir <dir>", "where real datasets live (default ~/.advdyn/data)")
    .addOption(new Option("--split <split>", "one split (default both)").choices(SPLITS))
    .action((name: DatasetName, o: { dataDir?: string; split?: Split }) => {
      for (const split of o.split === undefined ? SPLITS : [o.split]) {
        const ds = loadDataset(name, { dataDir: o.dataDir, split });
        try {
          const [n, ...shape] = ds.images.shape;
          console.log(`${ds.name} ${split}: ${n} examples, ${ds.images.dtype} ${shape.join("×")}, ${ds.classes} classes`);
          console.log(`  examples per class: ${labelCounts(ds).join(" ")}`);
          if (ds.normalization) console.log(`  normalization: mean ${ds.normalization.mean.join(" ")}, std ${ds.normalization.std.join(" ")}`);
        } finally {
          torch.dispose(ds);
        }
      }
    });
  return data;
}
