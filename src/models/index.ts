// The model zoo: `createModel("bwconv", { kernel: 3, channels: 32, activation: "linear" })`.
export {
  createModel, modelNames, describeModel, modelInfo, modelInfoFor, isExactlyLinear, hiddenConvLayers,
  type ModelName, type ModelOptions, type OptionsFor, type ModelInfo,
} from "./registry.js";
export { OptionError, type OptionSpec, type Schema } from "../util/schema.js";
export { HiddenStack, ShallowResNet, lcSweepChannels, type Activation } from "./shallow.js";
export { VGG } from "./vgg.js";
export { ResNet18, WideResNet } from "./resnet.js";
export { ViT, MlpMixer } from "./transformer.js";
export { OneHiddenNet, ConvNet } from "./kumano.js";
