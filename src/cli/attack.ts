// `advdyn attack RUN`: attacks checkpoints of a training run and stores perturbations and results.
import { BIM, FGM, FGSM, PGD, PRESETS, type Preset } from "../attacks/fixed.js";
import { CarliniWagnerL2 } from "../attacks/cw.js";
import { DDN } from "../attacks/ddn.js";
import { L2DeepFool, LinfDeepFool } from "../attacks/deepfool.js";
import { FMN } from "../attacks/fmn.js";
import type { Norm } from "../attacks/norms.js";
import type { Attack } from "../attacks/types.js";
import { RunDir } from "../store/run.js";
import { attackRun, type TargetMode } from "../studies/attack-run.js";
import { readRunConfig, selectCheckpoints } from "../studies/run-model.js";
import { choice, integer, number, parse } from "./options.js";
import { UsageError } from "./usage.js";

const ATTACKS = ["pgd", "bim", "fgm", "fgsm", "deepfool", "fmn", "cw", "ddn"] as const;
const NORMS: readonly Norm[] = ["l0", "l1", "l2", "linf"];
const MINIMAL = new Set(["deepfool", "fmn", "cw", "ddn"]);

export const ATTACK_USAGE = `advdyn attack RUN [options]
  --checkpoints all|best|last|0,1,5   (default all)
  --attack ${ATTACKS.join("|")} (default pgd)   --norm l0|l1|l2|linf (default linf)
  --eps 8/255[,16/255]   fixed-ε attacks: required; minimal-norm attacks: thresholds for success (default: none)
  --steps N  --stepsize X (absolute)  --preset ${PRESETS.join("|")}  --no-random-start
  --examples N (default 1000)  --split test|train (default test)  --batch-size B (default 256)
  --targeted none|random|least-likely|next (default none)  --seed S (default 0)  --data-dir DIR  --json`;

function buildAttack(name: (typeof ATTACKS)[number], norm: Norm, o: { steps?: number; stepsize?: number; preset?: Preset; randomStart?: boolean }): Attack {
  const grad = { preset: o.preset, steps: o.steps, absStepsize: o.stepsize, randomStart: o.randomStart };
  const needs = (allowed: readonly Norm[]) => {
    if (!allowed.includes(norm)) throw new UsageError(`--norm: ${name} supports ${allowed.join(", ")}, got '${norm}'`);
  };
  switch (name) {
    case "pgd": needs(["l1", "l2", "linf"]); return new PGD(norm as "l1" | "l2" | "linf", grad);
    case "bim": needs(["l1", "l2", "linf"]); return new BIM(norm as "l1" | "l2" | "linf", grad);
    case "fgm": needs(["l2", "linf"]); return norm === "linf" ? new FGSM(grad) : new FGM("l2", grad);
    case "fgsm": needs(["linf"]); return new FGSM(grad);
    case "deepfool": needs(["l2", "linf"]); return norm === "l2" ? new L2DeepFool({ steps: o.steps }) : new LinfDeepFool({ steps: o.steps });
    case "fmn": return new FMN(norm, { steps: o.steps });
    case "cw": needs(["l2"]); return new CarliniWagnerL2({ steps: o.steps });
    case "ddn": needs(["l2"]); return new DDN({ steps: o.steps });
  }
}

export function attackCommand(args: string[]): number {
  const { values: v, positionals } = parse(args, {
    checkpoints: { type: "string" }, attack: { type: "string" }, norm: { type: "string" }, eps: { type: "string" },
    steps: { type: "string" }, stepsize: { type: "string" }, preset: { type: "string" }, "no-random-start": { type: "boolean" },
    examples: { type: "string" }, split: { type: "string" }, "batch-size": { type: "string" }, targeted: { type: "string" },
    seed: { type: "string" }, "data-dir": { type: "string" }, json: { type: "boolean" },
  });
  if (positionals.length !== 1) throw new UsageError("expected one run folder: advdyn attack RUN [options]");
  const run = new RunDir(positionals[0]!);
  const name = choice("attack", v.attack, ATTACKS, "pgd");
  const norm = choice("norm", v.norm, NORMS, "linf");
  const epsilons = v.eps === undefined ? [] : v.eps.split(",").map((e) => number("eps", e, 0, 0));
  if (!MINIMAL.has(name) && epsilons.length === 0) throw new UsageError(`--eps: ${name} is a fixed-ε attack and needs --eps (e.g. 8/255)`);
  const steps = v.steps === undefined ? undefined : integer("steps", v.steps, 0, 1);
  const stepsize = v.stepsize === undefined ? undefined : number("stepsize", v.stepsize, 0, Number.MIN_VALUE);
  const preset = v.preset === undefined ? undefined : choice("preset", v.preset, PRESETS, "foolbox");
  let attack: Attack;
  try {
    attack = buildAttack(name, norm, { steps, stepsize, preset, randomStart: v["no-random-start"] ? false : undefined });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--attack ${name}: ${(e as Error).message}`);
  }
  const config = readRunConfig(run);
  const checkpoints = selectCheckpoints(run, v.checkpoints ?? "all");
  const examples = integer("examples", v.examples, 1000, 1);
  const split = choice("split", v.split, ["test", "train"] as const, "test");
  const targeted = choice<TargetMode>("targeted", v.targeted, ["none", "random", "least-likely", "next"], "none");
  const seed = integer("seed", v.seed, 0, 0);
  const key = [name, norm, ...(epsilons.length ? [`eps${epsilons.map((e) => +e.toPrecision(6)).join("_")}`] : []),
    steps === undefined ? "" : `steps${steps}`, stepsize === undefined ? "" : `step${stepsize}`, preset ?? "",
    v["no-random-start"] ? "norandom" : "", targeted === "none" ? "" : `targeted-${targeted}`, `${split}${examples}`, `seed${seed}`].filter(Boolean).join("-");
  const summaries = attackRun(run, config, checkpoints, {
    attack, key, epsilons: epsilons.length ? epsilons : [null], examples, split, targeted, seed,
    batchSize: integer("batch-size", v["batch-size"], 256, 1), steps: steps ?? 1, dataDir: v["data-dir"],
  });
  if (v.json) console.log(JSON.stringify({ key, attack: attack.name, summaries }, null, 2));
  else {
    console.log(`${attack.name} on ${summaries[0]?.examples ?? 0} ${split} examples; results in ${run.path}/attacks/${key}/`);
    console.log("checkpoint               clean acc   ε          success  success|correct  mean L2   mean L∞");
    for (const s of summaries) for (const e of s.perEpsilon) {
      console.log(`${s.checkpoint.replace(".safetensors", "").padEnd(22)}  ${s.cleanAccuracy.toFixed(4)}    ${String(e.epsilon === null ? "min" : +e.epsilon.toPrecision(4)).padEnd(9)}  ${e.successRate.toFixed(4)}   ${e.successOnCorrectRate.toFixed(4)}           ${e.meanL2.toFixed(4)}    ${e.meanLinf.toFixed(4)}`);
    }
  }
  return 0;
}
