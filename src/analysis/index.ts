// Measurements on perturbations and models: spectra, linear predictors, ReLU breakpoints, layer spectra,
// margins and confidence, input–layer Jacobian spectra.
export {
  ANGULAR_BINS, angularBinCentres, centredSpectrum, luminance, meanSpectrum, minMaxLuminance, radialBinCentres, radialBinCount, summarizeSpectrum,
  type SpectrumMode, type SpectrumOptions, type SpectrumSummary,
} from "./spectrum.js";
export { linearPredictor, linearityGap, type AnalysedModel } from "./linear.js";
export { matchedRandom, pathAnalysis, type PathOptions, type PathResult } from "./breakpoints.js";
export {
  convSingularValues, layerSpectra, reshapedKernelSingularValues, summarizeSingularValues, type LayerSpectrum, type SingularValueSummary,
} from "./layers.js";
export { QUANTITIES, allQuantities, findQuantity, quantity, type Quantity } from "./quantities.js";
export { outputConfidence, type OutputConfidence } from "./margins.js";
export { jacobianSpectra, type JacobianOptions, type JacobianSpectrum } from "./jacobian.js";
