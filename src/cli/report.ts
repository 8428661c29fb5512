// `advdyn report STUDY [--open]`: writes STUDY/report/index.html and its figures.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { buildReport } from "../report/index.js";
import { parse } from "./options.js";
import { UsageError } from "./usage.js";

export const REPORT_USAGE = `advdyn report STUDY [--open]
  writes STUDY/report/index.html (self-contained: figures, tables, study spec) and STUDY/report/figures/
  --open   open the report with xdg-open (else the path is printed)`;

const onPath = (cmd: string) => (process.env.PATH ?? "").split(delimiter).some((d) => d && existsSync(join(d, cmd)));

export async function reportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { open: { type: "boolean" } });
  if (positionals.length !== 1) throw new UsageError("expected one study folder: advdyn report STUDY [--open]");
  const report = await buildReport(positionals[0]!);
  const path = resolve(report.html);
  console.log(`report: ${path} (${report.content.length} figures, ${report.tables.length} tables)`);
  if (values.open) {
    if (onPath("xdg-open")) spawn("xdg-open", [path], { detached: true, stdio: "ignore" }).unref();
    else console.log(`no xdg-open on PATH; open ${path} in a browser`);
  }
  return 0;
}
