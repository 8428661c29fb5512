// `advdyn demo`: paper A's main experiment and a short learning-dynamics study at demo scale on real
// Fashion-MNIST (the built-in fourier-classes images when it is not installed), each with its report.
import { join } from "node:path";
import { Command } from "commander";
import { deviceOption } from "./options.js";
import { demoDatasets, runStudyArgs } from "./study.js";
import * as torch from "../torch/index.js";

export function demoCommand(): Command {
  return new Command("demo")
    .description("Run 'study ifr' and 'study dynamics' at demo scale on real Fashion-MNIST (Debian's dataset-fashion-mnist, or advdyn data get), " +
      "else on the built-in fourier-classes images, and write their reports; rerunning reuses what is done.")
    .option("--out <dir>", "where the two study folders go", "advdyn-demo")
    .option("--data-dir <dir>", "where real datasets live (default ~/.advdyn/data, then /usr/share/datasets)")
    .addOption(deviceOption())
    .action(async (o: { out: string; dataDir?: string; device: "cpu" | "cuda" }) => {
      torch.watchInterrupts();
      const { buildReport } = await import("../report/index.js");
      const began = performance.now();
      const reports: string[] = [];
      const datasets = demoDatasets(o.dataDir, (l) => console.log(l));
      for (const study of ["ifr", "dynamics"] as const) {
        const dir = join(o.out, study);
        await runStudyArgs({ study, scale: "demo", datasets, out: dir, dataDir: o.dataDir, device: o.device, json: false });
        reports.push((await buildReport(dir)).html);
      }
      console.log(`\ndemo done in ${((performance.now() - began) / 1000).toFixed(0)} s. Results (DuckDB + CSV) in ${o.out}/*/results.*; reports:`);
      for (const r of reports) console.log(`  ${r}`);
    });
}
