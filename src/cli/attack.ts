// `advdyn attack RUN`: attacks checkpoints of a training run and stores perturbations and results.
// The attacks, their norms and options come from the attack registry.
import { Command, InvalidArgumentError, Option } from "commander";
import { TARGET_MODES } from "../attacks/criteria.js";
import { type AttackRef, attackNames, checkTargets, describeAttack, resolveAttack } from "../attacks/registry.js";
import { NORMS } from "../attacks/norms.js";
import { RunDir } from "../store/run.js";
import { readRunConfig, selectCheckpoints } from "../train/run-model.js";
import { addSchemaOptions, integer, list, number, precisionOption, schemaValues } from "./options.js";
import { peek } from "./peek.js";
import { table } from "./table.js";
import * as torch from "../torch/index.js";

/** Every attack with its norms and options, from the registry (after `advdyn attack --help`). */
export function attacksHelp(): string {
  return attackNames().map((name) => {
    const d = describeAttack(name);
    const options = Object.entries(d.schema).map(([k, s]) =>
      `    --${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}  ${s.allowed}${s.default === undefined ? "" : ` (default ${JSON.stringify(s.default)})`}: ${s.doc}`);
    const presets = d.presets ? [`    presets (--preset): ${Object.entries(d.presets).map(([p, doc]) => `${p}: ${doc}`).join("\n      ")}`] : [];
    return [`  ${name} (${d.norms.join(", ")}; ${d.budget === "fixed" ? "ε is the budget" : "minimal norm, ε optional"}; ${d.targets}): ${d.summary}`, ...options, ...presets].join("\n");
  }).join("\n");
}

const checkpointsArg = (v: string): string => {
  if (v === "all" || v === "best" || v === "last" || /^\d+(,\d+)*$/.test(v)) return v;
  throw new InvalidArgumentError(`expected all, best, last or epochs like 0,1,5; got '${v}'`);
};

export function attackCommand(argv: readonly string[]): Command {
  const name = peek(argv, "--attack") ?? "pgd";
  const cmd = new Command("attack")
    .description("Attack checkpoints of a training run with a registered attack. Per checkpoint, perturbations, success, adversarial class and logits, norms and targets go to RUN/attacks/<key>/<checkpoint>/. " +
      "The attack's options go on the same command line; every attack and its options are listed below.")
    .argument("<run>", "the run folder")
    .option("--checkpoints <which>", "all, best, last or epochs like 0,1,5", checkpointsArg, "all")
    .addOption(new Option("--attack <name>", "the attack").choices(attackNames()).default("pgd"))
    .addOption(new Option("--norm <norm>", "the norm ε is measured in").choices(NORMS).default("linf"))
    .option("--eps <eps,...>", "fixed-ε attacks: the budget(s), required; minimal-norm attacks: success thresholds (default none)", list(number(0), "numbers like 8/255"))
    .option("--examples <n>", "attack the first N examples of the split", integer(1), 1000)
    .addOption(new Option("--split <split>", "which split").choices(["test", "train"]).default("test"))
    .option("--batch-size <n>", "examples per batch", integer(1), 256)
    .addOption(new Option("--targeted <mode>", "targets of a targeted attack").choices(TARGET_MODES).default("none"))
    .option("--seed <n>", "seed of random starts and targets", integer(0), 0)
    .addOption(precisionOption("the model's forward passes (default: the run's)"))
    .option("--data-dir <dir>", "where real datasets live (default ~/.advdyn/data)")
    .option("--json", "print the summaries as JSON")
    .addHelpText("after", `\nattacks:\n${attacksHelp()}`);
  const keys = attackNames().includes(name as never) ? addSchemaOptions(cmd, describeAttack(name).schema, name) : [];
  cmd.action(async (runPath: string, o) => {
    torch.watchInterrupts();
    const epsilons: number[] | undefined = o.eps;
    const attack: AttackRef = { attack: o.attack, norm: o.norm, eps: epsilons === undefined ? null : epsilons.length === 1 ? epsilons[0]! : epsilons, options: schemaValues(o, keys) };
    // A bad attack option is refused (exit 2) with the allowed values before the run is read.
    resolveAttack(attack);
    checkTargets(attack, o.targeted);
    if (o.norm === "linf" && (epsilons ?? []).some((e) => e >= 1)) {
      console.error("advdyn: warning: an L∞ ε of 1 or more spans the whole [0, 1] range of image inputs: any image is reachable (did you mean 8/255?)");
    }
    const run = new RunDir(runPath);
    readRunConfig(run);
    // Loaded here, not at start: --help and usage errors should not pay for the database engine.
    const { attackCheckpoints } = await import("../studies/attack-run.js");
    const { key, summaries } = await attackCheckpoints(run, selectCheckpoints(run, o.checkpoints), {
      attack, examples: o.examples, split: o.split, targets: o.targeted, seed: o.seed, batchSize: o.batchSize, dataDir: o.dataDir, progress: !o.json,
      ...(o.precision ? { precision: o.precision } : {}),
    });
    if (o.json) {
      console.log(JSON.stringify({ key, attack: summaries[0]?.attack, summaries }, null, 2));
      return;
    }
    console.log(`${summaries[0]?.attack} on ${summaries[0]?.examples ?? 0} ${o.split} examples; results in ${run.path}/attacks/${key}/`);
    console.log(table(["checkpoint", "clean acc", "ε", "success", "success|correct", "mean L2", "mean L∞"], summaries.flatMap((s) => s.perEpsilon.map((e) => [
      s.checkpoint.replace(".safetensors", ""), s.cleanAccuracy.toFixed(4), e.epsilon === null ? "min" : +e.epsilon.toPrecision(4),
      e.successRate.toFixed(4), e.successOnCorrectRate.toFixed(4), e.meanL2.toFixed(4), e.meanLinf.toFixed(4),
    ]))));
  });
  return cmd;
}
