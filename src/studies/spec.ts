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
