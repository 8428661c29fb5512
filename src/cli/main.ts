#!/usr/bin/env node
// The `advdyn` command: parses and validates, calls the library, prints. No logic of its own.
import { FolderInUse } from "../store/lock.js";
import { OptionError } from "../util/schema.js";
import { version } from "../util/version.js";
import { attackCommand } from "./attack.js";
import { dataCommand } from "./data.js";
import { cliReference, commandHelp, USAGE } from "./help.js";
import { integer, parse } from "./options.js";
import { demoCommand } from "./demo.js";
import { reportCommand } from "./report.js";
import { selfcheck } from "./selfcheck.js";
import { studyCommand } from "./study.js";
import { trainCommand } from "./train.js";
import { UsageError } from "./usage.js";

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
  if (command === "reference") {
    if (rest.length) throw new UsageError(`reference: unexpected argument '${rest[0]}'`);
    process.stdout.write(cliReference());
    return 0;
  }
  if (command !== "selfcheck") throw new UsageError(`unknown command '${command}' (expected: selfcheck, train, attack, data, study, report, demo, reference)`);
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
