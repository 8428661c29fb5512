// The `advdyn` command line as one commander program: every command declares its options once,
// and its help, its errors and docs/cli.md come from that declaration. Model and attack options
// come from their registries' schemas, added once the command line names the model or attack.
import { Command } from "commander";
import { version } from "../util/version.js";
import { attackCommand } from "./attack.js";
import { dataCommand } from "./data.js";
import { demoCommand } from "./demo.js";
import { cliReference } from "./help.js";
import { reportCommand } from "./report.js";
import { selfcheckCommand } from "./selfcheck.js";
import { studyCommand } from "./study.js";
import { trainCommand } from "./train.js";
import { workerCommand } from "./worker.js";

function referenceCommand(): Command {
  return new Command("reference")
    .summary("print the full command-line reference (every command, model, attack, job kind and study) as Markdown")
    .action(() => {
      process.stdout.write(cliReference());
    });
}

/** Errors are thrown, not printed (main prints one line); help is wrapped at `helpWidth` when given (docs/cli.md). */
function configure(cmd: Command, helpWidth?: number): void {
  cmd.exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {} }).showSuggestionAfterError(true);
  if (helpWidth) cmd.configureHelp({ helpWidth });
  for (const sub of cmd.commands) configure(sub, helpWidth);
}

/** The program for these arguments (they name the model or attack whose options to add). */
export function program(argv: readonly string[], helpWidth?: number): Command {
  const p = new Command("advdyn")
    .description("Watch adversarial perturbations form during training, in pixel space and in the frequency domain.")
    .version(version, "--version", "print the version")
    .addCommand(selfcheckCommand()).addCommand(trainCommand(argv)).addCommand(attackCommand(argv)).addCommand(dataCommand())
    .addCommand(studyCommand()).addCommand(workerCommand()).addCommand(reportCommand()).addCommand(demoCommand()).addCommand(referenceCommand());
  configure(p, helpWidth);
  return p;
}
