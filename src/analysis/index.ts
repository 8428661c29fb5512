// Measurements on perturbations and models: spectra, linear predictors, ReLU breakpoints, layer spectra.
export {
  ANGULAR_BINS, angularBinCentres, centredSpectrum, luminance, meanSpectrum, minMaxLuminance, radialBinCentres, radialBinCount, summarizeSpectrum,
  type SpectrumMode, type SpectrumOptions, type SpectrumSummary,
} from "./spectrum.js";
export { linearPredictor, linearityGap, type AnalysedModel } from "./linear.js";
export { matchedRandom, pathAnalysis, type PathOptions, type PathResult } from "./breakpoints.js";
export { convSingularValues, layerSpectra, type LayerSpectrum } from "./layers.js";
export { QUANTITIES, allQuantities, findQuantity, quantity, type Quantity } from "./quantities.js";
