// `advdyn attack RUN`: attacks checkpoints of a training run and stores perturbations and results.
// The attacks, their norms and options come from the attack registry.
import { TARGET_MODES, type TargetMode } from "../attacks/criteria.js";
import { type AttackRef, attackNames, describeAttack, resolveAttack } from "../attacks/registry.js";
import { NORMS, type Norm } from "../attacks/norms.js";
import { RunDir } from "../store/run.js";
import { attackCheckpoints } from "../studies/attack-run.js";
import { readRunConfig, selectCheckpoints } from "../train/run-model.js";
import { choice, integer, number, parse, schemaHelp, schemaOptions } from "./options.js";
import { UsageError } from "./usage.js";

export const ATTACK_USAGE = `advdyn attack RUN [options] [attack options]
  --checkpoints all|best|last|0,1,5   (default all)
  --attack ${attackNames().join("|")} (default pgd)   --norm l0|l1|l2|linf (default linf)
  --eps 8/255[,16/255]   fixed-ε attacks: required; minimal-norm attacks: thresholds for success (default: none)
  --examples N (default 1000)  --split test|train (default test)  --batch-size B (default 256)
  --targeted ${TARGET_MODES.join("|")} (default none)  --seed S (default 0)  --data-dir DIR  --json
  attack options as --name value (e.g. --steps 1000 --abs-stepsize 0.01 --random-start false); advdyn attack --help lists them`;

/** Every attack with its norms and options, from the registry. */
export function attacksHelp(): string {
  return attackNames().map((name) => {
    const d = describeAttack(name);
    const presets = d.presets ? `\n    presets (--preset): ${Object.entries(d.presets).map(([p, doc]) => `${p}: ${doc}`).join("\n      ")}` : "";
    return `  ${name} (${d.norms.join(", ")}; ${d.budget === "fixed" ? "ε is the budget" : "minimal norm, ε optional"}; ${d.targets}): ${d.summary}\n${schemaHelp(d.schema)}${presets}`;
  }).join("\n");
}

export async function attackCommand(args: string[]): Promise<number> {
  const { values: v, positionals, rest } = parse(args, {
    checkpoints: { type: "string" }, attack: { type: "string" }, norm: { type: "string" }, eps: { type: "string" },
    examples: { type: "string" }, split: { type: "string" }, "batch-size": { type: "string" }, targeted: { type: "string" },
    seed: { type: "string" }, "data-dir": { type: "string" }, json: { type: "boolean" },
  }, true);
  if (positionals.length !== 1) throw new UsageError("expected one run folder: advdyn attack RUN [options]");
  const name = choice("attack", v.attack, attackNames(), "pgd");
  const norm = choice<Norm>("norm", v.norm, NORMS, "linf");
  const epsilons = v.eps === undefined ? [null] : v.eps.split(",").map((e) => number("eps", e, 0));
  if (describeAttack(name).budget === "fixed" && v.eps === undefined) throw new UsageError(`--eps: ${name} is a fixed-ε attack and needs --eps (e.g. 8/255)`);
  const targets = choice<TargetMode>("targeted", v.targeted, TARGET_MODES, "none");
  const attack: AttackRef = { attack: name, norm, eps: epsilons.length === 1 ? epsilons[0]! : epsilons, options: schemaOptions(name, describeAttack(name).schema, rest) };
  // A bad attack option is an OptionError (exit 2) naming the option and the allowed values, before the run is read.
  resolveAttack(attack);
  const run = new RunDir(positionals[0]!);
  readRunConfig(run);
  const checkpoints = selectCheckpoints(run, v.checkpoints ?? "all");
  const split = choice("split", v.split, ["test", "train"] as const, "test");
  const { key, summaries } = await attackCheckpoints(run, checkpoints, {
    attack, examples: integer("examples", v.examples, 1000, 1), split, targets, seed: integer("seed", v.seed, 0, 0),
    batchSize: integer("batch-size", v["batch-size"], 256, 1), dataDir: v["data-dir"], progress: !v.json,
  });
  if (v.json) console.log(JSON.stringify({ key, attack: summaries[0]?.attack, summaries }, null, 2));
  else {
    console.log(`${summaries[0]?.attack} on ${summaries[0]?.examples ?? 0} ${split} examples; results in ${run.path}/attacks/${key}/`);
    console.log("checkpoint               clean acc   ε          success  success|correct  mean L2   mean L∞");
    for (const s of summaries) for (const e of s.perEpsilon) {
      console.log(`${s.checkpoint.replace(".safetensors", "").padEnd(22)}  ${s.cleanAccuracy.toFixed(4)}    ${String(e.epsilon === null ? "min" : +e.epsilon.toPrecision(4)).padEnd(9)}  ${e.successRate.toFixed(4)}   ${e.successOnCorrectRate.toFixed(4)}           ${e.meanL2.toFixed(4)}    ${e.meanLinf.toFixed(4)}`);
    }
  }
  return 0;
}
