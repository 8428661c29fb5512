import type { DatasetName, DatasetRef } from "../data/index.js";

// The studies advdyn runs by name, and their scales.
export const PAPER_A_STUDIES = ["ifr", "init-scale", "dynamics", "kernel-size", "architectures", "hidden-shortcut"] as const;
export type PaperAStudy = (typeof PAPER_A_STUDIES)[number];
export const PAPER_B_STUDIES = ["perturbation-theory", "perturbation-learning"] as const;
export const PAPER_C_STUDIES = ["at-regularization"] as const;
export const STUDY_NAMES = [...PAPER_A_STUDIES, ...PAPER_B_STUDIES, ...PAPER_C_STUDIES] as const;
export type StudyName = (typeof STUDY_NAMES)[number];
export const SCALES = ["smoke", "demo", "paper"] as const;
/** smoke: seconds (tests); demo: ≤ 2–3 min on 2 CPU cores on built-in data; paper: the paper's settings. */
export type Scale = (typeof SCALES)[number];

/** A study's dataset: the built-in fourier-classes at the scale's size, any other set as it is. */
export const studyDataset = (name: DatasetName, synthetic: NonNullable<DatasetRef["options"]>["fourierClasses"]): DatasetRef =>
  (name === "fourier-classes" ? { name, options: { fourierClasses: synthetic } } : { name });

/** Refuses --models keys the study does not have at this scale, listing those it has. */
export function checkModelKeys(study: string, scale: Scale, requested: readonly string[], known: readonly string[]): void {
  const unknown = requested.filter((k) => !known.includes(k));
  if (unknown.length) throw new RangeError(`models: ${unknown.join(", ")} not in study ${study} at scale ${scale} (it has ${known.join(", ")})`);
}
