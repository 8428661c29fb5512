// The studies advdyn runs by name, and their scales.
export const STUDY_NAMES = ["ifr", "init-scale", "dynamics", "kernel-size", "architectures", "hidden-shortcut"] as const;
export type StudyName = (typeof STUDY_NAMES)[number];
export const SCALES = ["smoke", "demo", "paper"] as const;
/** smoke: seconds (tests); demo: ≤ 2 min on 2 CPU cores on built-in data; paper: the paper's settings. */
export type Scale = (typeof SCALES)[number];
