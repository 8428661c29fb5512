// `advdyn report`: STUDY/report/index.html (self-contained) and STUDY/report/figures/*.svg|png,
// all drawn from the study's database and tensors files.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.js";
import { type Figure, buildFigures } from "./figures.js";
import { renderHtml } from "./html.js";
import type { StudyFile } from "../store/study-folder.js";
import { Study } from "./study.js";
import { type QuantitySummary, type TableData, buildSummaries, buildTables } from "./tables.js";

export type { Figure, Frame, Section } from "./figures.js";
export type { Panel } from "./image.js";
export type { QuantitySummary, TableData } from "./tables.js";

export interface Report {
  /** Path of index.html. */
  html: string;
  /** Paths of every figure file written. */
  figures: string[];
  info: StudyFile;
  tables: TableData[];
  /** Every measured quantity per model (catalogue-driven). */
  summaries: QuantitySummary[];
  /** The figures with the data they draw (Vega-Lite specs, heatmap source arrays). */
  content: Figure[];
}

export async function buildReport(studyDir: string): Promise<Report> {
  const study = await Study.open(studyDir);
  let tables: TableData[];
  let summaries: QuantitySummary[];
  let content: Figure[];
  try {
    tables = await buildTables(study);
    summaries = await buildSummaries(study);
    content = await buildFigures(study);
  } finally {
    study.close();
  }
  const dir = join(studyDir, "report");
  const figDir = join(dir, "figures");
  // The figures folder holds only this build's output: files of figures that no longer have data would mislead.
  rmSync(figDir, { recursive: true, force: true });
  mkdirSync(figDir, { recursive: true });
  const figures: string[] = [];
  const write = (name: string, data: string | Buffer) => {
    const p = join(figDir, name);
    writeFileAtomic(p, data);
    figures.push(p);
  };
  for (const f of content) {
    write(`${f.id}.svg`, f.svg);
    for (const fr of f.frames ?? []) write(`${f.id}-${fr.checkpoint}.svg`, fr.svg);
    // The bare heatmaps too, one array cell per (upscaled) pixel, for use outside the report.
    (f.panels ?? []).forEach((p, i) => write(`${f.id}-${i}.png`, p.png));
  }
  const html = join(dir, "index.html");
  writeFileAtomic(html, renderHtml(study.info, tables, summaries, content));
  return { html, figures, info: study.info, tables, summaries, content };
}
