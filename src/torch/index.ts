// The tensor engine: `import { torch } from "advdyn"` gives PyTorch's API, camelCased.
export * from "./dtype.js";
export { Interrupted, TorchError } from "./errors.js";
export { Tensor, type Shape, type NestedArray } from "./tensor.js";
export * from "./ops.js";
export { tidy, keep, dispose, memory, allocatorCache } from "./scope.js";
export { Generator, manualSeed } from "./random.js";
export { noGrad, enableGrad, isGradEnabled } from "./autograd.js";
export * as autograd from "./autograd.js";
export * as fft from "./fft.js";
export * as linalg from "./linalg.js";
export * as nn from "./nn.js";
export { autocast, checkInterrupt, cuda, dieWithParent, getNumThreads, setNumThreads, watchInterrupts } from "./runtime.js";
export { saveSafetensors, loadSafetensors, serializeSafetensors, parseSafetensors, SafetensorsWriter, type Safetensors, type TensorMap, type TensorSpec } from "./safetensors.js";
