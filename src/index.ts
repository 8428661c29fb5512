export * as torch from "./torch/index.js";
export * as optim from "./optim/index.js";
export * as nn from "./nn/index.js";
export * as models from "./models/index.js";
export * as data from "./data/index.js";
export * as attacks from "./attacks/index.js";
export * as analysis from "./analysis/index.js";
