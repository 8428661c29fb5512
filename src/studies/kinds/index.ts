// The job kinds a study graph is made of, registered once. A new kind is added here.
import { OptionError } from "../../util/schema.js";
import type { JobKind } from "../graph.js";
import { attackSet } from "./attack-set.js";
import { deriveDataset } from "./derive-dataset.js";
import { evaluate } from "./evaluate.js";
import { measure } from "./measure.js";
import { perturbationTheory, theoryNet } from "./perturbation-theory.js";
import { train } from "./train.js";

const KINDS: ReadonlyMap<string, JobKind> = new Map([train, attackSet, deriveDataset, measure, evaluate, theoryNet, perturbationTheory].map((k) => [k.name, k]));

export const jobKindNames = (): string[] => [...KINDS.keys()];

export function jobKind(name: string): JobKind {
  const k = KINDS.get(name);
  if (!k) throw new OptionError(`unknown job kind '${name}'; kinds: ${jobKindNames().join(", ")}`);
  return k;
}

export type { AttackSetInputs, AttackSetSummary } from "./attack-set.js";
export type { DeriveInputs } from "./derive-dataset.js";
export type { EvaluateInputs } from "./evaluate.js";
export type { MeasureInputs, StudyAttack } from "./measure.js";
export type { TheoryInputs, TheoryNetInputs } from "./perturbation-theory.js";
export type { TrainInputs } from "./train.js";
