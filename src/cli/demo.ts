// `advdyn demo`: paper A's main experiment and a short learning-dynamics study at demo scale on the
// built-in fourier-classes data, each with its report.
import { join } from "node:path";
import { Command } from "commander";
import { deviceOption } from "./options.js";
import { runStudyArgs } from "./study.js";
import * as torch from "../torch/index.js";

export function demoCommand(): Command {
  return new Command("demo")
    .summary("paper A's main experiment and learning dynamics at demo scale, with reports (about a minute)")
    .description("Run 'study ifr' and 'study dynamics' at demo scale on built-in data and write their reports; rerunning reuses what is done.")
    .option("--out <dir>", "where the two study folders go", "advdyn-demo")
    .addOption(deviceOption())
    .action(async (o: { out: string; device: "cpu" | "cuda" }) => {
      torch.watchInterrupts();
      const { buildReport } = await import("../report/index.js");
      const began = performance.now();
      const reports: string[] = [];
      for (const study of ["ifr", "dynamics"] as const) {
        const dir = join(o.out, study);
        await runStudyArgs({ study, scale: "demo", out: dir, device: o.device, json: false });
        reports.push((await buildReport(dir)).html);
      }
      console.log(`\ndemo done in ${((performance.now() - began) / 1000).toFixed(0)} s. Results (DuckDB + CSV) in ${o.out}/*/results.*; reports:`);
      for (const r of reports) console.log(`  ${r}`);
    });
}
