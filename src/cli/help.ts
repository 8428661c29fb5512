// The command-line reference (docs/cli.md), generated from the commands' declarations and the
// registries' option schemas: models, attacks, job kinds, studies, datasets.
import type { Command } from "commander";
import { allQuantities } from "../analysis/quantities.js";
import { attackNames, describeAttack } from "../attacks/registry.js";
import { NAMED_DATASETS } from "../data/index.js";
import { describeModel, modelNames } from "../models/index.js";
import { studySpec } from "../studies/catalog.js";
import { jobKind, jobKindNames } from "../studies/kinds/index.js";
import { STUDY_NAMES } from "../studies/spec.js";
import type { Schema } from "../util/schema.js";
import { program } from "./program.js";

/** The options a command line can set (a Generator cannot be typed). */
function cliOptions(schema: Schema): Schema {
  return Object.fromEntries(Object.entries(schema).filter(([, s]) => s.allowed !== "a torch.Generator"));
}

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const cell = (s: string) => s.replace(/\|/g, "\\|");

function optionsTable(schema: Schema): string {
  const rows = Object.entries(cliOptions(schema));
  if (rows.length === 0) return "No options.\n";
  return `| option | allowed | default | meaning |\n| --- | --- | --- | --- |\n${rows.map(([k, s]) =>
    `| \`--${kebab(k)}\` | ${cell(s.allowed)} | ${s.default === undefined ? "—" : `\`${cell(JSON.stringify(s.default))}\``} | ${cell(s.doc)} |`).join("\n")}\n`;
}

/** docs/cli.md: generated, so that it cannot drift from the code (a test compares them). */
export async function cliReference(): Promise<string> {
  const p = await program([], { helpWidth: 100, all: true });
  const help = (c: Command) => c.helpInformation().trimEnd();
  const commands = p.commands.flatMap((c) => [c, ...c.commands]);
  const out: string[] = [
    "# advdyn command-line reference",
    "",
    "Generated from the code by `advdyn reference` (`npm run docs` writes this file); do not edit by hand.",
    "",
    "```text", help(p), "```", "",
    "## Commands", "",
    ...commands.flatMap((c) => [`### advdyn ${c.parent && c.parent !== p ? `${c.parent.name()} ` : ""}${c.name()}`, "", "```text", help(c), "```", ""]),
    "## Models (`advdyn train --model NAME`)", "",
    "Model options go on the command line as `--name value` (`advdyn train --model NAME --help` lists them too).", "",
    ...modelNames().flatMap((name) => [`### ${name}`, "", describeModel(name).summary, "", optionsTable(describeModel(name).options)]),
    "## Attacks (`advdyn attack --attack NAME`, and study specs' `{ attack, norm, eps, options }`)", "",
    "Attack options go on the command line as `--name value`, and in a study spec under `options` by their camelCase names.", "",
    ...attackNames().flatMap((name) => {
      const d = describeAttack(name);
      return [`### ${name}`, "", d.summary, "",
        `Norms: ${d.norms.join(", ")}. ${d.budget === "fixed" ? "ε is the budget (required)." : "Minimises the perturbation; ε only thresholds success (optional)."} Targets: ${d.targets}.`, "",
        optionsTable(d.schema),
        ...(d.presets ? ["Presets (`--preset`):", "", ...Object.entries(d.presets).map(([p, doc]) => `- \`${p}\`: ${doc}`), ""] : [])];
    }),
    "## Job kinds (study specs)", "",
    "A study is a graph of jobs `{ id, kind, tags, inputs, deps }`; see docs/studies.md for the inputs of each kind.", "",
    ...jobKindNames().map((k) => `- \`${k}\`: ${jobKind(k).summary}`), "",
    "## Studies (`advdyn study NAME`)", "",
    ...STUDY_NAMES.map((s) => `- \`${s}\`: ${studySpec(s, { scale: "paper" }).description}`), "",
    "## Datasets (`--dataset NAME`)", "",
    `${NAMED_DATASETS.map((d) => `\`${d}\``).join(", ")}, or a dataset folder (holding \`dataset.json\`, as a derive-dataset job writes).`, "",
  ];
  return `${out.join("\n")}`;
}

/** The catalogue of measured quantities as a Markdown table (the generated part of docs/methods.md). */
export function quantityTable(): string {
  return `| quantity | symbol | unit | shape | definition |\n| --- | --- | --- | --- | --- |\n${allQuantities().map((q) =>
    `| \`${q.name}${q.name.endsWith(":") ? "<parameter>" : ""}\` | ${cell(q.symbol)} | ${cell(q.unit) || "—"} | ${q.shape}${q.bins ? ` (bin: ${q.bins})` : ""} | ${cell(q.definition)} |`).join("\n")}\n`;
}
