// Adversarial attacks with Foolbox 3's contract: see types.ts for run() and its result.
export * from "./types.js";
export * from "../nn/attack-model.js";
export * from "./criteria.js";
export * from "./norms.js";
export * from "./fixed.js";
export * from "./random.js";
export * from "./targeted.js";
export * from "./deepfool.js";
export * from "./fmn.js";
export * from "./cw.js";
export * from "./ddn.js";
export * from "./search.js";
export * from "./registry.js";
export * from "./batch.js";
