// `advdyn report STUDY [--open]`: writes STUDY/report/index.html and its figures.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { Command } from "commander";

const onPath = (cmd: string) => (process.env.PATH ?? "").split(delimiter).some((d) => d && existsSync(join(d, cmd)));

export function reportCommand(): Command {
  return new Command("report")
    .description("Write STUDY/report/index.html (self-contained: figures, tables, every measured quantity, the study spec) and STUDY/report/figures/.")
    .argument("<study>", "the study folder")
    .option("--open", "open the report with xdg-open (else its path is printed)")
    .action(async (study: string, o: { open?: boolean }) => {
      // Loaded here, not at start: the figure renderer and the database engine are slow to load.
      const { buildReport } = await import("../report/index.js");
      const report = await buildReport(study);
      const path = resolve(report.html);
      console.log(`report: ${path} (${report.content.length} figures, ${report.tables.length} tables)`);
      if (o.open) {
        if (onPath("xdg-open")) spawn("xdg-open", [path], { detached: true, stdio: "ignore" }).unref();
        else console.log(`no xdg-open on PATH; open ${path} in a browser`);
      }
    });
}
