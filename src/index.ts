/// <reference lib="esnext.disposable" preserve="true" />
// advdyn as a library: every layer, as a namespace. The reference above makes `using` and
// Symbol.dispose (tensors, generators, locks are disposable) known to a consumer's compiler
// whatever its `lib` setting.
export * as torch from "./torch/index.js";
export * as optim from "./optim/index.js";
export * as nn from "./nn/index.js";
export * as models from "./models/index.js";
export * as data from "./data/index.js";
export * as attacks from "./attacks/index.js";
export * as analysis from "./analysis/index.js";
export * as store from "./store/index.js";
export * as train from "./train/index.js";
export * as studies from "./studies/index.js";
export * as report from "./report/index.js";
