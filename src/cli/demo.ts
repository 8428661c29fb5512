// `advdyn demo`: paper A's main experiment and a short learning-dynamics study at demo scale on the
// built-in fourier-classes data, each with its report.
import { join } from "node:path";
import { buildReport } from "../report/index.js";
import { parse } from "./options.js";
import { runStudyArgs } from "./study.js";
import { UsageError } from "./usage.js";

export const DEMO_USAGE = `advdyn demo [--out DIR (default advdyn-demo)] [--device cpu|cuda]
  runs 'study ifr' and 'study dynamics' at demo scale (about 2 minutes on 2 cores) and writes their reports;
  rerunning reuses what is done`;

export async function demoCommand(args: string[]): Promise<number> {
  const { values: v, positionals } = parse(args, { out: { type: "string" }, device: { type: "string" } });
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (v.device !== undefined && v.device !== "cpu" && v.device !== "cuda") throw new UsageError(`--device: expected cpu or cuda, got '${v.device}'`);
  const out = v.out ?? "advdyn-demo";
  const device = (v.device ?? "cpu") as "cpu" | "cuda";
  const began = performance.now();
  const reports: string[] = [];
  for (const study of ["ifr", "dynamics"] as const) {
    const dir = join(out, study);
    await runStudyArgs({ study, scale: "demo", out: dir, device, json: false });
    reports.push((await buildReport(dir)).html);
  }
  console.log(`\ndemo done in ${((performance.now() - began) / 1000).toFixed(0)} s. Results (DuckDB + CSV) in ${out}/*/results.*; reports:`);
  for (const r of reports) console.log(`  ${r}`);
  return 0;
}
