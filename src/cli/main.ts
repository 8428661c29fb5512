#!/usr/bin/env node
// The `advdyn` command: parses and validates, calls the library, prints. No logic of its own.
import { FolderInUse } from "../store/lock.js";
import { OptionError } from "../util/schema.js";
import { version } from "../util/version.js";
import { describeModel, modelNames } from "../models/index.js";
import { ATTACK_USAGE, attackCommand, attacksHelp } from "./attack.js";
import { DATA_USAGE, dataCommand } from "./data.js";
import { integer, parse, schemaHelp } from "./options.js";
import { DEMO_USAGE, demoCommand } from "./demo.js";
import { REPORT_USAGE, reportCommand } from "./report.js";
import { selfcheck } from "./selfcheck.js";
import { STUDY_USAGE, studyCommand } from "./study.js";
import { TRAIN_USAGE, trainCommand } from "./train.js";
import { UsageError } from "./usage.js";

const USAGE = `usage: advdyn <command> [options]

commands:
  selfcheck   train a small classifier on synthetic data to check the engine end to end
              --epochs N (default 5)  --seed S (default 0)  --device cpu|cuda  --json
  train       ${TRAIN_USAGE.replace(/\n/g, "\n              ")}
  attack      ${ATTACK_USAGE.replace(/\n/g, "\n              ")}
  data        ${DATA_USAGE.replace(/\n/g, "\n              ")}
  study       ${STUDY_USAGE.replace(/\n/g, "\n              ")}
  report      ${REPORT_USAGE.replace(/\n/g, "\n              ")}
  demo        ${DEMO_USAGE.replace(/\n/g, "\n              ")}

options for every command: --help, --version`;

/** A command's own help; `train --model NAME --help` adds the model's options. */
function commandHelp(command: string, rest: string[]): string {
  switch (command) {
    case "train": {
      const model = rest[rest.indexOf("--model") + 1];
      const known = rest.includes("--model") && model !== undefined && modelNames().includes(model as never);
      return known ? `${TRAIN_USAGE}\n\n${model}: ${describeModel(model!).summary}\n${schemaHelp(describeModel(model!).options)}` : TRAIN_USAGE;
    }
    case "attack": return `${ATTACK_USAGE}\n\nattacks:\n${attacksHelp()}`;
    case "data": return DATA_USAGE;
    case "study": return STUDY_USAGE;
    case "report": return REPORT_USAGE;
    case "demo": return DEMO_USAGE;
    default: return USAGE;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "--version") {
    console.log(version);
    return 0;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(commandHelp(command, rest));
    return 0;
  }
  if (command === "train") return trainCommand(rest);
  if (command === "data") return dataCommand(rest);
  if (command === "attack") return attackCommand(rest);
  if (command === "study") return studyCommand(rest);
  if (command === "report") return reportCommand(rest);
  if (command === "demo") return demoCommand(rest);
  if (command !== "selfcheck") throw new UsageError(`unknown command '${command}' (expected: selfcheck, train, attack, data, study, report, demo)`);
  const { values } = parse(rest, { epochs: { type: "string" }, seed: { type: "string" }, device: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean" } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const device = values.device ?? "cpu";
  if (device !== "cpu" && device !== "cuda") throw new UsageError(`--device: expected cpu or cuda, got '${device}'`);
  const result = selfcheck({ epochs: integer("epochs", values.epochs, 5, 1), seed: integer("seed", values.seed, 0, 0), device });
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`libtorch threads: ${result.libtorchThreads}, CUDA available: ${result.cudaAvailable}, device: ${result.device}`);
    console.log("epoch   loss    train acc   images/s");
    for (const e of result.epochs) console.log(`${String(e.epoch).padStart(5)}  ${e.loss.toFixed(4)}   ${e.trainAccuracy.toFixed(4)}   ${e.imagesPerSecond.toFixed(0).padStart(8)}`);
    console.log(`test accuracy ${result.testAccuracy.toFixed(4)}; tensors leaked: ${result.leakedTensors}`);
    console.log(result.passed ? "selfcheck passed" : "selfcheck FAILED: the model did not learn, or tensors leaked");
  }
  return result.passed ? 0 : 1;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError || e instanceof OptionError) {
    console.error(`advdyn: ${e.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (e instanceof FolderInUse) {
    console.error(`advdyn: ${e.message}`);
    process.exitCode = e.exitCode;
  } else {
    console.error(`advdyn: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}
