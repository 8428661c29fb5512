// The `advdyn` command line as one commander program: every command declares its options once,
// and its help, its errors and docs/cli.md come from that declaration. Model and attack options
// come from their registries' schemas, added once the command line names the model or attack.
import { Command } from "commander";
import { version } from "../util/version.js";

type Factory = (argv: readonly string[]) => Command;

/**
 * The commands, each loaded only when the arguments name it: a command's module brings the library
 * behind it (most of a start-up), and `advdyn --help` needs only these names and summaries.
 */
const COMMANDS: readonly { name: string; summary: string; load: () => Promise<Factory> }[] = [
  { name: "selfcheck", summary: "train a small classifier on synthetic data to check the engine end to end", load: async () => (await import("./selfcheck.js")).selfcheckCommand },
  { name: "train", summary: "train a model with checkpoints into a run folder (resumable)", load: async () => (await import("./train.js")).trainCommand },
  { name: "attack", summary: "attack checkpoints of a run; store perturbations and results (resumable)", load: async () => (await import("./attack.js")).attackCommand },
  { name: "data", summary: "fetch the real datasets, describe any dataset", load: async () => (await import("./data.js")).dataCommand },
  { name: "study", summary: "run one of the papers' experiments (A: six studies; B: perturbation-theory, perturbation-learning; C: at-regularization), or a study graph you wrote (resumable)", load: async () => (await import("./study.js")).studyCommand },
  { name: "worker", summary: "run jobs of queued studies (any machine that sees the study folders)", load: async () => (await import("./worker.js")).workerCommand },
  { name: "report", summary: "write a study's HTML report and figures", load: async () => (await import("./report.js")).reportCommand },
  { name: "demo", summary: "paper A's main experiment and learning dynamics at demo scale on Fashion-MNIST, with reports (about a minute)", load: async () => (await import("./demo.js")).demoCommand },
  {
    name: "reference", summary: "print the full command-line reference (every command, model, attack, job kind and study) as Markdown",
    load: async () => {
      const { cliReference } = await import("./help.js");
      return () => new Command("reference").action(async () => {
        process.stdout.write(await cliReference());
      });
    },
  },
];

/** Errors are thrown, not printed (main prints one line); help is wrapped at `helpWidth` when given (docs/cli.md). */
function configure(cmd: Command, helpWidth?: number): void {
  cmd.exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {} }).showSuggestionAfterError(true);
  if (helpWidth) cmd.configureHelp({ helpWidth });
  for (const sub of cmd.commands) configure(sub, helpWidth);
}

/**
 * The program for these arguments (they name the command to load, and the model or attack whose
 * options to add); the other commands are their name and summary. `all`: every command loaded.
 */
export async function program(argv: readonly string[], o: { helpWidth?: number; all?: boolean } = {}): Promise<Command> {
  const words = argv.filter((a) => !a.startsWith("-"));
  const named = words[0] === "help" ? words[1] : words[0];
  const p = new Command("advdyn")
    .description("Watch adversarial perturbations form during training, in pixel space and in the frequency domain.")
    .version(version, "--version", "print the version");
  for (const c of COMMANDS) p.addCommand((o.all || c.name === named ? (await c.load())(argv) : new Command(c.name)).summary(c.summary));
  configure(p, o.helpWidth);
  return p;
}
